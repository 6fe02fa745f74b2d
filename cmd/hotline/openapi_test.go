package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"hotline/assistant/httpapi"
	"hotline/assistant/outbound"
	"hotline/configs"
)

// openAPIFile describes /api/v1.
const openAPIFile = "../../docs/openapi.yaml"

// TestOpenAPIDescribesEveryRoute: docs/openapi.yaml parses, and every
// route serve registers under /api/v1 is in it with its method (and
// nothing is described that does not exist).
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	b, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", openAPIFile, err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Paths) == 0 {
		t.Fatalf("%s: openapi %q with %d paths", openAPIFile, doc.OpenAPI, len(doc.Paths))
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method == "parameters" {
				continue
			}
			if m, ok := op.(map[string]any); !ok || m["responses"] == nil {
				t.Errorf("%s %s has no responses", method, path)
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}

	// The routes as serve mounts them (serve.go, web.go, outbound.go).
	cfg, err := configs.Load("", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	a, err := newApp(context.Background(), cfg, log, seed{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	srv := httpapi.New(log)
	srv.MountCalls(a.sessions, []string{"t"})
	if err := a.mountWeb(context.Background(), srv); err != nil {
		t.Fatal(err)
	}
	(&outbound.API{}).Mount(srv.Echo(), httpapi.BearerAuth([]string{"t"}))

	param := regexp.MustCompile(`:([A-Za-z_]+)`)
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	registered := map[string]bool{}
	for _, r := range srv.Echo().Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || !slices.Contains(methods, r.Method) {
			continue // health, pages, and echo's not-found catch-alls
		}
		key := r.Method + " " + param.ReplaceAllString(r.Path, "{$1}")
		registered[key] = true
		if !documented[key] {
			t.Errorf("%s is served but not in %s", key, openAPIFile)
		}
	}
	if len(registered) < 12 {
		t.Errorf("only %d /api/v1 routes found: %v", len(registered), registered)
	}
	for key := range documented {
		if !registered[key] {
			t.Errorf("%s is in %s but not served", key, openAPIFile)
		}
	}
}
