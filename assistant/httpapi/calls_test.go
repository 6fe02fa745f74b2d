package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"hotline/assistant/redistest"
	"hotline/assistant/session"
	"hotline/dialogs"
)

const token = "test-token-0123456789"

func callsServer(t *testing.T) (*Server, *session.Store) {
	t.Helper()
	rdb, _, prefix := redistest.Mini(t)
	st := session.NewStore(rdb, prefix, time.Hour)
	ctx := context.Background()
	live := &session.Session{ID: "live-1", Direction: "inbound", Leg: "sip",
		Dialog: dialogs.State{Phase: dialogs.PhaseBirthDate, PendingCase: "12345678"}}
	ended := &session.Session{ID: "ended-1", Direction: "inbound", Leg: "chat",
		Dialog:      dialogs.State{Phase: dialogs.PhaseEnded, Verified: true, CaseNumber: "22222222"},
		Disclosures: []dialogs.Disclosure{{Kind: dialogs.DiscloseBalance, CaseNumber: "22222222"}},
		Transcript:  []session.Line{{Who: session.WhoBot, Text: "Dzień dobry."}},
		Termination: "caller_hung_up"}
	for _, s := range []*session.Session{ended, live} {
		if err := st.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	ended.EndedAt = time.Now()
	if err := st.Save(ctx, ended); err != nil {
		t.Fatal(err)
	}
	srv := New(slog.New(slog.DiscardHandler))
	srv.MountCalls(st, []string{token})
	return srv, st
}

func do(t *testing.T, s *Server, path, tok string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	s.Echo().ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func TestCallsAPI(t *testing.T) {
	srv, _ := callsServer(t)
	tests := []struct {
		name, path, tok string
		code            int
		want, notWant   []string
	}{
		{"no token", "/api/v1/calls", "", 401, []string{`"error"`}, nil},
		{"wrong token", "/api/v1/calls", "nope-nope-nope-nope", 401, nil, nil},
		{"all calls newest first", "/api/v1/calls", token, 200, []string{`"id":"live-1"`, `"id":"ended-1"`}, nil},
		{"live only, case masked", "/api/v1/calls?state=live", token, 200,
			[]string{`"id":"live-1"`, `"case_number":"*****678"`, `"verification":"case_entered"`}, []string{"ended-1", "12345678"}},
		{"ended only, verified case shown", "/api/v1/calls?state=ended", token, 200,
			[]string{`"case_number":"22222222"`, `"verification":"verified"`, `"termination":"caller_hung_up"`, `"kind":"balance"`, "Dzień dobry."}, []string{"live-1"}},
		{"bad state", "/api/v1/calls?state=zombie", token, 400, []string{"state must be"}, nil},
		{"bad limit", "/api/v1/calls?limit=0", token, 400, nil, nil},
		{"one call", "/api/v1/calls/ended-1", token, 200, []string{`"id":"ended-1"`, `"state":"ended"`, `"ended_at"`}, nil},
		{"unknown call", "/api/v1/calls/nope", token, 404, []string{`"error":"no such call"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(t, srv, tt.path, tt.tok)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %s: %s", w, body)
				}
			}
			for _, nw := range tt.notWant {
				if strings.Contains(body, nw) {
					t.Errorf("body has %s: %s", nw, body)
				}
			}
		})
	}
	_, body := do(t, srv, "/api/v1/calls", token)
	var out struct{ Calls []CallView }
	if err := json.Unmarshal([]byte(body), &out); err != nil || len(out.Calls) != 2 || out.Calls[0].ID != "live-1" {
		t.Fatalf("order: %v %+v", err, out.Calls)
	}
}

func TestNoTokensRefusesEveryone(t *testing.T) {
	rdb, _, prefix := redistest.Mini(t)
	srv := New(slog.New(slog.DiscardHandler))
	srv.MountCalls(session.NewStore(rdb, prefix, time.Hour), nil)
	if code, _ := do(t, srv, "/api/v1/calls", "anything-at-all-123"); code != 401 {
		t.Fatalf("status %d", code)
	}
}

// fakeNotes is the consultants' notes by call id; err fails every read.
type fakeNotes struct {
	notes map[string][]CallNote
	err   error
}

func (f fakeNotes) CallNotes(_ context.Context, id string) ([]CallNote, error) {
	return f.notes[id], f.err
}

var _ NoteReader = fakeNotes{}

func TestCallNotes(t *testing.T) {
	at := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	notes := map[string][]CallNote{"ended-1": {
		{At: at, By: "ala", Text: "Obiecał wpłatę w piątek."},
		{At: at.Add(time.Minute), By: "ala", Text: "Prosi o raty."},
	}}
	tests := []struct {
		name, path string
		err        error
		want       []CallNote // nil: no "notes" in the body
	}{
		{"one call with notes", "/api/v1/calls/ended-1", nil, notes["ended-1"]},
		{"one call without notes", "/api/v1/calls/live-1", nil, nil},
		{"notes unavailable: the call still", "/api/v1/calls/ended-1", errors.New("redis down"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, st := callsServer(t)
			srv := New(slog.New(slog.DiscardHandler))
			srv.MountCallsWithNotes(st, fakeNotes{notes: notes, err: tt.err}, []string{token})
			code, body := do(t, srv, tt.path, token)
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			var v struct {
				ID    string
				Notes *[]CallNote `json:"notes"`
			}
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.want == nil && v.Notes != nil:
				t.Errorf("notes = %+v, want none in %s", *v.Notes, body)
			case tt.want != nil && (v.Notes == nil || !slices.Equal(*v.Notes, tt.want)):
				t.Errorf("notes in %s, want %+v", body, tt.want)
			}
		})
	}
	// The list leaves notes out (one read per call would be too many).
	_, st := callsServer(t)
	srv := New(slog.New(slog.DiscardHandler))
	srv.MountCallsWithNotes(st, fakeNotes{notes: notes}, []string{token})
	if _, body := do(t, srv, "/api/v1/calls", token); strings.Contains(body, "notes") || strings.Contains(body, "Obiecał") {
		t.Errorf("the list shows notes: %s", body)
	}
}
