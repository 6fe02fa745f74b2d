package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"hotline/assistant/callbacks"
)

// TestFormInBrowser: a person fills in /oddzwonienie in headless
// Chromium; an empty submission shows messages next to the fields, a
// filled one shows the slot in words, and the callback is then listed by
// GET /api/v1/callbacks with the number in E.164 and the chosen slot.
func TestFormInBrowser(t *testing.T) {
	if !inPrivateNetwork(t) {
		return
	}
	s := startServe(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := runBrowser(ctx, t, "form.mjs", map[string]string{"URL": "http://" + s.http}, nil)
	errs, _ := run.Result["errors"].(map[string]any)
	for field, want := range map[string]string{"phone": "Proszę podać numer telefonu", "slot": "Proszę wybrać dzień i godzinę",
		"consent": "proszę zaznaczyć zgodę"} {
		if got, _ := errs[field].(string); !strings.Contains(got, want) {
			t.Errorf("empty form: %s message %q, want %q", field, got, want)
		}
	}
	chosen, _ := run.Result["chosen"].(string)
	at, err := time.Parse(time.RFC3339, chosen)
	if err != nil {
		t.Fatalf("chosen slot %q: %v\n%s", chosen, err, run.Output)
	}
	confirmation, _ := run.Result["confirmation"].(string)
	if !strings.Contains(confirmation, "+48 601 234 567") || !strings.Contains(confirmation, "między "+at.Format("15:04")+" a ") {
		t.Errorf("confirmation %q for slot %s (%v)", confirmation, chosen, run.Result["label"])
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.http+"/api/v1/callbacks", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var list struct{ Callbacks []callbacks.Callback }
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/callbacks: %d %v", res.StatusCode, err)
	}
	if len(list.Callbacks) != 1 {
		t.Fatalf("%d callbacks stored: %+v", len(list.Callbacks), list.Callbacks)
	}
	cb := list.Callbacks[0]
	if cb.Phone != "+48601234567" || cb.CaseNumber != "12345678" || cb.Source != callbacks.SourceForm || !cb.At.Equal(at) {
		t.Errorf("stored %+v, want the form's request at %s", cb, chosen)
	}
}
