package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/assistant/console"
	"hotline/assistant/outbound"
	"hotline/assistant/redistest"
)

// fakeDesk is a CallbackDesk with one waiting callback "cb1", an unknown
// "nope" and "closed", which the gate refuses.
type fakeDesk struct {
	mu       sync.Mutex
	taker    string
	reported []outbound.Outcome
}

var _ console.CallbackDesk = (*fakeDesk)(nil)

var deskRetryAt = time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC)

func (d *fakeDesk) task(user string) outbound.Task {
	t := outbound.Task{ID: "cb1", CaseNumber: "12345678", Phone: "+48601234567", TakenBy: d.taker}
	if d.taker != user {
		t.Phone = outbound.MaskPhone(t.Phone)
	}
	return t
}

func (d *fakeDesk) List(_ context.Context, user string) ([]outbound.Task, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return []outbound.Task{d.task(user)}, nil
}

func (d *fakeDesk) Take(_ context.Context, id, user string) (outbound.Task, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case id == "closed":
		return outbound.Task{}, &outbound.RefusedError{Rule: outbound.RuleWindow, Detail: "outside the calling window", RetryAt: deskRetryAt}
	case id != "cb1":
		return outbound.Task{}, fmt.Errorf("callback %s: %w", id, outbound.ErrNotFound)
	case d.taker != "" && d.taker != user:
		return outbound.Task{}, outbound.ErrTaken
	}
	d.taker = user
	return d.task(user), nil
}

func (d *fakeDesk) Report(_ context.Context, id, user string, o outbound.Outcome) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if id != "cb1" {
		return outbound.ErrNotFound
	}
	if d.taker != user {
		return outbound.ErrNotTaker
	}
	d.reported = append(d.reported, o)
	d.taker = ""
	return nil
}

func (d *fakeDesk) Release(_ context.Context, id, user string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if id != "cb1" {
		return outbound.ErrNotFound
	}
	if d.taker != user {
		return outbound.ErrNotTaker
	}
	d.taker = ""
	return nil
}

// newDeskRig starts a console with the consultants' callbacks on desk.
func newDeskRig(t *testing.T, desk console.CallbackDesk) *rig {
	t.Helper()
	rdb, prefix := redistest.Real(t)
	srv, q, e := serveConsole(t, rdb, prefix, nil, console.Options{
		Users: []console.User{
			{Name: "ala", Role: console.RoleConsultant},
			{Name: "ola", Role: console.RoleConsultant},
		},
		Callbacks: desk,
	})
	return &rig{srv: srv, q: q, e: e}
}

func TestCallbacksNeedALoginAndCSRF(t *testing.T) {
	desk := &fakeDesk{}
	r := newDeskRig(t, desk)
	anon := r.browser(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/console/api/callbacks"},
		{"POST", "/console/api/callbacks/cb1/take"},
		{"POST", "/console/api/callbacks/cb1/report"},
		{"POST", "/console/api/callbacks/cb1/release"},
	} {
		if got := anon.do(tc.method, tc.path, "", nil).code; got != http.StatusUnauthorized {
			t.Errorf("%s %s without a session: %d", tc.method, tc.path, got)
		}
	}
	ala := r.browser(t)
	if ala.login("ala", password) != http.StatusSeeOther {
		t.Fatal("login")
	}
	for _, tc := range []struct {
		name string
		hdr  map[string]string
	}{
		{"no token", nil},
		{"wrong token", map[string]string{"X-CSRF-Token": strings.Repeat("0", 64)}},
		{"foreign origin", map[string]string{"X-CSRF-Token": ala.csrf, "Origin": "https://evil.example"}},
	} {
		for _, action := range []string{"take", "report", "release"} {
			if got := ala.do("POST", "/console/api/callbacks/cb1/"+action, `{"outcome":"busy"}`, tc.hdr).code; got != http.StatusForbidden {
				t.Errorf("%s %s: %d, want 403", action, tc.name, got)
			}
		}
	}
	desk.mu.Lock()
	defer desk.mu.Unlock()
	if desk.taker != "" || len(desk.reported) != 0 {
		t.Fatalf("a refused request reached the desk: %v %v", desk.taker, desk.reported)
	}
}

func TestCallbacksRoutes(t *testing.T) {
	desk := &fakeDesk{}
	r := newDeskRig(t, desk)
	ala, ola := r.browser(t), r.browser(t)
	ala.login("ala", password)
	ola.login("ola", password)

	// The page shows the panel; /api/me says callbacks go to the consultants.
	if page := ala.do("GET", "/console", "", nil); !strings.Contains(page.body, `id="callbacks"`) ||
		!strings.Contains(page.body, "Oddzwonienia") || !strings.Contains(page.body, "/console/static/callbacks.js") {
		t.Fatalf("console page without the callbacks panel:\n%s", page.body)
	}
	if me := ala.do("GET", "/console/api/me", "", nil); !strings.Contains(me.body, `"callbacks":true`) {
		t.Fatalf("/console/api/me: %s", me.body)
	}
	if js := ala.do("GET", "/console/static/callbacks.js", "", nil); js.code != http.StatusOK || !strings.Contains(js.body, "Biorę") {
		t.Fatalf("callbacks.js: %d", js.code)
	}

	var list struct{ Callbacks []outbound.Task }
	l := ala.do("GET", "/console/api/callbacks", "", nil)
	if err := json.Unmarshal([]byte(l.body), &list); err != nil || l.code != http.StatusOK ||
		len(list.Callbacks) != 1 || list.Callbacks[0].Phone != "+********567" {
		t.Fatalf("list: %d %s (%v)", l.code, l.body, err)
	}

	tests := []struct {
		name string
		who  *browser
		path string
		body string
		code int
		want string // in the body
	}{
		{"take an unknown callback", ala, "/console/api/callbacks/nope/take", "", http.StatusNotFound, ""},
		{"take refused by the gate", ala, "/console/api/callbacks/closed/take", "", http.StatusConflict, `"rule":"calling_window","retry_at":"2026-03-04T08:00:00Z"`},
		{"take", ala, "/console/api/callbacks/cb1/take", "", http.StatusOK, `"phone":"+48601234567"`},
		{"take it again (a reload)", ala, "/console/api/callbacks/cb1/take", "", http.StatusOK, `"case_number":"12345678"`},
		{"another consultant takes it", ola, "/console/api/callbacks/cb1/take", "", http.StatusConflict, `"reason":"taken"`},
		{"another consultant reports", ola, "/console/api/callbacks/cb1/report", `{"outcome":"busy"}`, http.StatusConflict, `"reason":"not_yours"`},
		{"another consultant releases", ola, "/console/api/callbacks/cb1/release", "", http.StatusConflict, `"reason":"not_yours"`},
		{"a bad outcome", ala, "/console/api/callbacks/cb1/report", `{"outcome":"voicemail"}`, http.StatusBadRequest, ""},
		{"no outcome", ala, "/console/api/callbacks/cb1/report", `{}`, http.StatusBadRequest, ""},
		{"not JSON", ala, "/console/api/callbacks/cb1/report", `outcome=busy`, http.StatusBadRequest, ""},
		{"report an unknown callback", ala, "/console/api/callbacks/nope/report", `{"outcome":"busy"}`, http.StatusNotFound, ""},
		{"release an unknown callback", ala, "/console/api/callbacks/nope/release", "", http.StatusNotFound, ""},
		{"report", ala, "/console/api/callbacks/cb1/report", `{"outcome":"no-answer"}`, http.StatusOK, `"status":"ok"`},
		{"report twice", ala, "/console/api/callbacks/cb1/report", `{"outcome":"no-answer"}`, http.StatusConflict, ""},
		{"the other takes it now", ola, "/console/api/callbacks/cb1/take", "", http.StatusOK, `"taken_by":"ola"`},
		{"and gives it back", ola, "/console/api/callbacks/cb1/release", "", http.StatusOK, `"status":"ok"`},
	}
	for _, tc := range tests {
		got := tc.who.post(tc.path, tc.body)
		if got.code != tc.code || !strings.Contains(got.body, tc.want) {
			t.Errorf("%s: %d %s, want %d with %s", tc.name, got.code, got.body, tc.code, tc.want)
		}
	}
	desk.mu.Lock()
	defer desk.mu.Unlock()
	if len(desk.reported) != 1 || desk.reported[0] != outbound.OutcomeNoAnswer || desk.taker != "" {
		t.Fatalf("desk: %v %v", desk.taker, desk.reported)
	}
}

func TestCallbacksOffWithoutADesk(t *testing.T) {
	r := newRig(t)
	b := r.browser(t)
	b.login("ala", password)
	if got := b.do("GET", "/console/api/callbacks", "", nil).code; got != http.StatusNotFound {
		t.Errorf("list without a desk: %d", got)
	}
	if got := b.post("/console/api/callbacks/cb1/take", "").code; got != http.StatusNotFound && got != http.StatusMethodNotAllowed {
		t.Errorf("take without a desk: %d", got)
	}
	if page := b.do("GET", "/console", "", nil); strings.Contains(page.body, `id="callbacks"`) || strings.Contains(page.body, "callbacks.js") {
		t.Errorf("the page shows the callbacks panel without a desk")
	}
	if me := b.do("GET", "/console/api/me", "", nil); !strings.Contains(me.body, `"callbacks":false`) {
		t.Errorf("/console/api/me: %s", me.body)
	}
}
