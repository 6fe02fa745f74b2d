package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/calendar"
	"hotline/assistant/callbacks"
	"hotline/assistant/redistest"
	"hotline/assistant/web"
)

// cbNow is Tuesday 24 November 2026, 10:00 in Warsaw.
var cbNow = time.Date(2026, 11, 24, 10, 0, 0, 0, calendar.Warsaw())

func callbacksServer(t testing.TB, capacity int) (*Server, *callbacks.Service) {
	t.Helper()
	srv, cbs, _, _ := callbacksServerOn(t, capacity)
	return srv, cbs
}

// callbacksServerOn is callbacksServer that also returns its Redis and key
// prefix, for tests that play the dialer's part.
func callbacksServerOn(t testing.TB, capacity int) (*Server, *callbacks.Service, redis.UniversalClient, string) {
	t.Helper()
	rdb, prefix := redistest.Real(t)
	cbs, err := callbacks.New(rdb, prefix, callbacks.Config{Capacity: capacity, Now: func() time.Time { return cbNow }})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(slog.New(slog.DiscardHandler))
	srv.MountCallbacks(CallbacksOptions{Store: cbs, Tokens: []string{token}, Now: func() time.Time { return cbNow }})
	return srv, cbs, rdb, prefix
}

func send(t testing.TB, s *Server, method, path, tok, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	s.Echo().ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func storedCallbacks(t testing.TB, cbs *callbacks.Service) []callbacks.Callback {
	t.Helper()
	list, err := cbs.List(context.Background(), time.Unix(0, 0), cbNow.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestCallbacksAPIPostAndList(t *testing.T) {
	srv, cbs, rdb, prefix := callbacksServerOn(t, 5)
	if code, _ := send(t, srv, http.MethodPost, "/api/v1/callbacks", "", `{}`); code != http.StatusUnauthorized {
		t.Fatalf("without a token: %d", code)
	}
	if code, _ := send(t, srv, http.MethodGet, "/api/v1/callbacks", "wrong", ``); code != http.StatusUnauthorized {
		t.Fatalf("GET with a wrong token: %d", code)
	}
	later := `{"phone":"601 234 567","at":"2026-12-01T15:00:00+01:00"}`
	sooner := `{"phone":"+48 22 123 45 67","case_number":"12345678","at":"2026-11-25T09:30:00+01:00"}`
	for _, body := range []string{later, sooner} {
		code, out := send(t, srv, http.MethodPost, "/api/v1/callbacks", token, body)
		if code != http.StatusCreated {
			t.Fatalf("POST %s: %d %s", body, code, out)
		}
		var cb callbacks.Callback
		if err := json.Unmarshal([]byte(out), &cb); err != nil || cb.ID == "" || cb.Source != callbacks.SourceAPI ||
			cb.Status != callbacks.StatusScheduled || !strings.HasPrefix(cb.Phone, "+48") {
			t.Fatalf("POST answer %s (%v)", out, err)
		}
	}
	if n := len(storedCallbacks(t, cbs)); n != 2 {
		t.Fatalf("%d stored", n)
	}
	code, out := send(t, srv, http.MethodGet, "/api/v1/callbacks", token, "")
	var list struct{ Callbacks []callbacks.Callback }
	if err := json.Unmarshal([]byte(out), &list); err != nil || code != http.StatusOK {
		t.Fatalf("GET: %d %s", code, out)
	}
	if len(list.Callbacks) != 2 || list.Callbacks[0].Phone != "+48221234567" || list.Callbacks[0].CaseNumber != "12345678" ||
		list.Callbacks[1].Phone != "+48601234567" {
		t.Fatalf("list not soonest first: %+v", list.Callbacks)
	}
	for _, tt := range []struct {
		query string
		code  int
		n     int
	}{
		{"?status=scheduled", 200, 2}, {"?status=done", 200, 0}, {"?limit=1", 200, 1},
		{"?status=consultant", 200, 0}, {"?status=bogus", 400, 0}, {"?limit=0", 400, 0}, {"?limit=x", 400, 0},
	} {
		code, out := send(t, srv, http.MethodGet, "/api/v1/callbacks"+tt.query, token, "")
		list.Callbacks = nil
		_ = json.Unmarshal([]byte(out), &list)
		if code != tt.code || len(list.Callbacks) != tt.n {
			t.Errorf("GET %s: %d with %d, want %d with %d", tt.query, code, len(list.Callbacks), tt.code, tt.n)
		}
	}

	// A callback the dialer took out of the schedule and finished is
	// still listed, under its new status.
	ctx := context.Background()
	all := storedCallbacks(t, cbs)
	done := all[0].ID
	if _, err := rdb.ZRem(ctx, prefix+callbacks.KeyDue, done).Result(); err != nil {
		t.Fatal(err)
	}
	if err := cbs.Update(ctx, done, func(cb *callbacks.Callback) { cb.Status = callbacks.StatusDone }); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		query string
		code  int
		n     int
	}{
		{"", 200, 2}, {"?status=scheduled", 200, 1}, {"?status=done", 200, 1},
	} {
		code, out := send(t, srv, http.MethodGet, "/api/v1/callbacks"+tt.query, token, "")
		list.Callbacks = nil
		_ = json.Unmarshal([]byte(out), &list)
		if code != tt.code || len(list.Callbacks) != tt.n {
			t.Errorf("GET %s: %d with %d, want %d with %d", tt.query, code, len(list.Callbacks), tt.code, tt.n)
		}
	}
}

func TestCallbacksAPIRejectsAndStoresNothing(t *testing.T) {
	srv, cbs := callbacksServer(t, 5)
	tests := []struct {
		name, body string
		code       int
		field      string // "" for errors without fields
	}{
		{"empty object", `{}`, 400, "phone"},
		{"not JSON", `phone=601234567`, 400, ""},
		{"array", `[{"phone":"601234567"}]`, 400, ""},
		{"two objects", `{"phone":"601234567","at":"2026-12-01T15:00:00+01:00"}{}`, 400, ""},
		{"unknown field", `{"phone":"601234567","at":"2026-12-01T15:00:00+01:00","name":"Jan"}`, 400, ""},
		{"number as phone", `{"phone":601234567,"at":"2026-12-01T15:00:00+01:00"}`, 400, ""},
		{"short phone", `{"phone":"60123","at":"2026-12-01T15:00:00+01:00"}`, 400, "phone"},
		{"letters in phone", `{"phone":"+48 60I 234 567","at":"2026-12-01T15:00:00+01:00"}`, 400, "phone"},
		{"phone starting with 0", `{"phone":"012345678","at":"2026-12-01T15:00:00+01:00"}`, 400, "phone"},
		{"bad case number", `{"phone":"601234567","case_number":"ABC","at":"2026-12-01T15:00:00+01:00"}`, 400, "case_number"},
		{"no time", `{"phone":"601234567"}`, 400, "at"},
		{"time without zone", `{"phone":"601234567","at":"2026-12-01T15:00:00"}`, 400, "at"},
		{"date in the past", `{"phone":"601234567","at":"2026-11-20T15:00:00+01:00"}`, 400, "at"},
		{"within the lead time", `{"phone":"601234567","at":"2026-11-24T10:30:00+01:00"}`, 400, "at"},
		{"outside the window", `{"phone":"601234567","at":"2026-12-01T07:00:00+01:00"}`, 400, "at"},
		{"slot ending after hours", `{"phone":"601234567","at":"2026-12-01T16:45:00+01:00"}`, 400, "at"},
		{"weekend", `{"phone":"601234567","at":"2026-11-28T12:00:00+01:00"}`, 400, "at"},
		{"holiday", `{"phone":"601234567","at":"2026-12-24T12:00:00+01:00"}`, 400, "at"},
		{"beyond the horizon", `{"phone":"601234567","at":"2027-01-12T12:00:00+01:00"}`, 400, "at"},
		{"huge body", `{"phone":"601234567","case_number":"` + strings.Repeat("1", 50_000) + `"}`, 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := send(t, srv, http.MethodPost, "/api/v1/callbacks", token, tt.body)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, out)
			}
			var body fieldErrorBody
			if err := json.Unmarshal([]byte(out), &body); err != nil || body.Error == "" {
				t.Fatalf("answer %s (%v)", out, err)
			}
			if tt.field != "" && !slices.ContainsFunc(body.Fields, func(f fieldError) bool { return f.Field == tt.field && f.Message != "" }) {
				t.Errorf("no message for %s: %s", tt.field, out)
			}
			if n := len(storedCallbacks(t, cbs)); n != 0 {
				t.Fatalf("%d stored", n)
			}
		})
	}
}

func TestCallbacksAPISlotFull(t *testing.T) {
	srv, cbs := callbacksServer(t, 1)
	body := `{"phone":"601234567","at":"2026-12-01T15:00:00+01:00"}`
	if code, out := send(t, srv, http.MethodPost, "/api/v1/callbacks", token, body); code != http.StatusCreated {
		t.Fatalf("first: %d %s", code, out)
	}
	code, out := send(t, srv, http.MethodPost, "/api/v1/callbacks", token, `{"phone":"601234568","at":"2026-12-01T15:10:00+01:00"}`)
	if code != http.StatusConflict || !strings.Contains(out, `"at"`) {
		t.Fatalf("second: %d %s", code, out)
	}
	if n := len(storedCallbacks(t, cbs)); n != 1 {
		t.Fatalf("%d stored", n)
	}
}

// FuzzCallbacksAPI: whatever the body, the answer is 201 with a stored
// record in the window, or 4xx with nothing stored; never a 5xx.
func FuzzCallbacksAPI(f *testing.F) {
	for _, s := range []string{
		`{"phone":"601234567","at":"2026-12-01T15:00:00+01:00"}`,
		`{"phone":"+48601234567","case_number":"123456","at":"2026-11-25T09:00:00+01:00"}`,
		`{"phone":"","at":""}`, `{`, `null`, `{"at":"2026-13-40T99:00:00+01:00"}`,
	} {
		f.Add(s)
	}
	srv, cbs := callbacksServer(f, 1000)
	f.Fuzz(func(t *testing.T, body string) {
		before := len(storedCallbacks(t, cbs))
		code, out := send(t, srv, http.MethodPost, "/api/v1/callbacks", token, body)
		after := len(storedCallbacks(t, cbs))
		switch {
		case code == http.StatusCreated:
			var cb callbacks.Callback
			if err := json.Unmarshal([]byte(out), &cb); err != nil || after != before+1 {
				t.Fatalf("201 %s but %d→%d stored", out, before, after)
			}
			if _, err := web.NormalizePhone(cb.Phone); err != nil || cb.At.Before(cbNow) {
				t.Fatalf("stored a bad request: %+v", cb)
			}
		case code >= 400 && code < 500:
			if after != before {
				t.Fatalf("%d but %d→%d stored", code, before, after)
			}
		default:
			t.Fatalf("status %d: %s", code, out)
		}
	})
}
