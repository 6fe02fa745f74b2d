package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hotline/assistant/callbacks"
	"hotline/assistant/outbound"
	"hotline/assistant/redistest"
)

// consoleSession is a consultant logged in to /console over plain HTTP.
type consoleSession struct {
	t    *testing.T
	c    *http.Client
	base string
	csrf string
}

var csrfMeta = regexp.MustCompile(`name="csrf-token" content="([0-9a-f]+)"`)

// consoleLogin logs user in at the served hotline and reads the page's
// CSRF token.
func consoleLogin(t *testing.T, base, user, password string) *consoleSession {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &consoleSession{t: t, base: "http://" + base, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	res, err := s.c.PostForm(s.base+"/console/login", url.Values{"user": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("console login as %s: %d", user, res.StatusCode)
	}
	code, page := s.do(http.MethodGet, "/console", "")
	m := csrfMeta.FindSubmatch(page)
	if code != http.StatusOK || m == nil {
		t.Fatalf("console page: %d, no CSRF token", code)
	}
	s.csrf = string(m[1])
	return s
}

// do sends a request with the session cookie and, on POST, the CSRF token.
func (s *consoleSession) do(method, path, body string) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("X-CSRF-Token", s.csrf)
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := s.c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return res.StatusCode, b
}

// tasks reads the consultant's /console/api/callbacks.
func (s *consoleSession) tasks() []outbound.Task {
	s.t.Helper()
	code, b := s.do(http.MethodGet, "/console/api/callbacks", "")
	var out struct{ Callbacks []outbound.Task }
	if err := json.Unmarshal(b, &out); err != nil || code != http.StatusOK {
		s.t.Fatalf("GET /console/api/callbacks: %d %s (%v)", code, b, err)
	}
	return out.Callbacks
}

// trunkSpy is a UDP socket standing in for the SIP trunk: it counts what
// reaches it (an INVITE would).
type trunkSpy struct {
	conn    net.PacketConn
	packets atomic.Int64
	done    chan struct{}
}

func startTrunkSpy(t *testing.T) *trunkSpy {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &trunkSpy{conn: c, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 65536)
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			s.packets.Add(1)
		}
	}()
	t.Cleanup(func() { _ = c.Close(); <-s.done })
	return s
}

func (s *trunkSpy) port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

// TestCallbacksHandedToConsultants: with outbound.callbacks_to set to
// consultants, a callback booked through POST /api/v1/callbacks is not
// dialled at its slot but appears in the consultant's console list
// (phone masked); the consultant takes it (the full number and the case
// come back, another consultant is refused), calls and reports no
// answer: the callback is planned for a retry after the backoff, the
// ledger has the consultant's attempt, and nothing reached the trunk.
// With the dialer on (real Redis) and off (no trunk; embedded store).
func TestCallbacksHandedToConsultants(t *testing.T) {
	for _, tc := range []struct {
		name   string
		dialer bool
	}{{"dialer on", true}, {"dialer off", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			trunk := startTrunkSpy(t)
			env := []string{
				"HOTLINE_OUTBOUND_CALLBACKS_TO=consultants", "HOTLINE_OUTBOUND_WINDOW=" + openWindow,
				"HOTLINE_OUTBOUND_POLL=100ms", "HOTLINE_OUTBOUND_LEASE=30s",
				"HOTLINE_CALLBACKS_HOURS=" + openWindow, "HOTLINE_CONSOLE_COOKIE_SECURE=false",
			}
			if tc.dialer {
				_, prefix := redistest.Real(t)
				env = append(env, "HOTLINE_OUTBOUND_ENABLED=true",
					"HOTLINE_OUTBOUND_TARGET=sip:{phone}@127.0.0.1:"+strconv.Itoa(trunk.port()),
					"HOTLINE_REDIS_URL=redis://127.0.0.1:6379/0", "HOTLINE_REDIS_PREFIX="+prefix)
			}
			clk := newFakeClock(time.Now())
			p := startInProcess(t, clk, env...)
			cb := bookCallback(t, p)
			con := consoleLogin(t, p.http, "konsultant", "demo-konsultant")
			if _, me := con.do(http.MethodGet, "/console/api/me", ""); !strings.Contains(string(me), `"callbacks":true`) {
				t.Fatalf("/console/api/me: %s", me)
			}

			clk.Set(cb.At.Add(-time.Second))
			clk.waitReads(t, 6)
			if l := con.tasks(); len(l) != 0 {
				t.Fatalf("listed before its slot: %+v", l)
			}
			clk.Set(cb.At)
			var task outbound.Task
			for deadline := time.Now().Add(10 * time.Second); ; {
				if l := con.tasks(); len(l) == 1 {
					task = l[0]
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not listed 10 s after its slot\n%s", tail(p.log.String(), 6000))
				}
				time.Sleep(50 * time.Millisecond) // polling the hand-off loop
			}
			if task.ID != cb.ID || task.CaseNumber != "12345678" || task.Phone != "+********567" || task.TakenBy != "" {
				t.Fatalf("listed %+v", task)
			}
			// The record's status follows the hand-off (a second write after
			// the move into the list): the API shows it a moment later.
			for deadline := time.Now().Add(5 * time.Second); ; {
				l := callbackList(t, p.http)
				if len(l) == 1 && l[0].Status == callbacks.StatusConsultant {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("GET /api/v1/callbacks while waiting for a consultant: %+v", l)
				}
				time.Sleep(20 * time.Millisecond) // polling the record
			}

			code, b := con.do(http.MethodPost, "/console/api/callbacks/"+cb.ID+"/take", "")
			var taken outbound.Task
			if err := json.Unmarshal(b, &taken); err != nil || code != http.StatusOK ||
				taken.Phone != "+48601234567" || taken.CaseNumber != "12345678" || taken.TakenBy != "konsultant" {
				t.Fatalf("take: %d %s", code, b)
			}
			boss := consoleLogin(t, p.http, "kierownik", "demo-kierownik")
			if code, b := boss.do(http.MethodPost, "/console/api/callbacks/"+cb.ID+"/take", ""); code != http.StatusConflict ||
				!strings.Contains(string(b), `"reason":"taken"`) {
				t.Fatalf("take by a second consultant: %d %s", code, b)
			}
			if l := boss.tasks(); len(l) != 1 || l[0].Phone != "+********567" || l[0].TakenBy != "konsultant" {
				t.Fatalf("the second consultant's list: %+v", l)
			}
			if code, b := con.do(http.MethodPost, "/console/api/callbacks/"+cb.ID+"/report", `{"outcome":"no-answer"}`); code != http.StatusOK {
				t.Fatalf("report: %d %s", code, b)
			}
			if l := con.tasks(); len(l) != 0 {
				t.Fatalf("listed after the report: %+v", l)
			}

			l := callbackList(t, p.http)
			if len(l) != 1 || l[0].Status != callbacks.StatusRetry || l[0].Attempts != 1 || l[0].Outcome != string(outbound.OutcomeNoAnswer) {
				t.Fatalf("GET /api/v1/callbacks after the report: %+v", l)
			}
			due, err := p.a.rdb.ZScore(t.Context(), p.a.cfg.Redis.Prefix+callbacks.KeyDue, cb.ID).Result()
			if want := cb.At.Add(15 * time.Minute); err != nil || !time.Unix(int64(due), 0).Equal(want) {
				t.Fatalf("due again at %v (%v), want %v (the first backoff)", time.Unix(int64(due), 0), err, want)
			}

			// The outbound API's export, mounted with the dialer off too.
			rows := ledgerOf(ledger(t, p.http), "callback_id", cb.ID)
			at := cb.At.UTC().Format(time.RFC3339)
			if len(rows) != 2 || rows[0]["event"] != outbound.EventDial || rows[0]["detail"] != "consultant konsultant" ||
				rows[0]["at"] != at || rows[0]["phone"] != "+48601234567" || rows[0]["case_number"] != "12345678" ||
				rows[1]["event"] != outbound.EventOutcome || rows[1]["outcome"] != string(outbound.OutcomeNoAnswer) ||
				rows[1]["detail"] != "consultant konsultant" {
				t.Fatalf("ledger rows of the callback: %v", rows)
			}
			if n := trunk.packets.Load(); n != 0 {
				t.Fatalf("%d packets reached the trunk: something was dialled", n)
			}
			if logs := p.log.String(); strings.Contains(logs, "601234567") {
				t.Errorf("the phone number reached the log:\n%s", tail(logs, 4000))
			}
		})
	}
}

// TestCallbacksConsoleInBrowser: the "Oddzwonienia" panel in headless
// Chromium: the due callback is listed with its phone masked, "Biorę"
// shows the full number (a tel: link) and the case, "Nie odebrano" records
// the outcome and empties the panel; the callback is planned for a retry.
func TestCallbacksConsoleInBrowser(t *testing.T) {
	if !inPrivateNetwork(t) {
		return
	}
	clk := newFakeClock(time.Now())
	p := startInProcess(t, clk, "HOTLINE_OUTBOUND_CALLBACKS_TO=consultants", "HOTLINE_OUTBOUND_WINDOW="+openWindow,
		"HOTLINE_OUTBOUND_POLL=100ms", "HOTLINE_OUTBOUND_LEASE=30s",
		"HOTLINE_CALLBACKS_HOURS="+openWindow, "HOTLINE_CONSOLE_COOKIE_SECURE=false")
	cb := bookCallback(t, p)
	clk.Set(cb.At)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if got, err := p.a.cbs.Get(t.Context(), cb.ID); err == nil && got.Status == callbacks.StatusConsultant {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not handed to the consultants 10 s after its slot\n%s", tail(p.log.String(), 6000))
		}
		time.Sleep(50 * time.Millisecond) // polling the hand-off loop
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := runBrowser(ctx, t, "console_callbacks.mjs", map[string]string{
		"URL": "http://" + p.http, "CALLBACK": cb.ID, "CONSULTANT": "konsultant", "CONSULTANT_PASSWORD": "demo-konsultant",
	}, nil)
	r := run.Result
	if r["masked"] != "+********567" || r["count"] != "1" || r["phone"] != "+48601234567" || r["href"] != "tel:+48601234567" ||
		r["caseNumber"] != "12345678" || r["mine"] != "Twoje" || !strings.HasPrefix(fmt.Sprint(r["status"]), "Zapisano: nie odebrano") {
		t.Fatalf("browser: %v\n%s", r, run.Output)
	}
	got, err := p.a.cbs.Get(t.Context(), cb.ID)
	if err != nil || got.Status != callbacks.StatusRetry || got.Attempts != 1 || got.Outcome != string(outbound.OutcomeNoAnswer) {
		t.Fatalf("callback after the report: %+v %v", got, err)
	}
}
