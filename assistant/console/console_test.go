package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"

	"hotline/assistant"
	"hotline/assistant/calendar"
	"hotline/assistant/console"
	"hotline/assistant/consultants"
	"hotline/assistant/redistest"
	"hotline/telephony"
	"hotline/telephony/telephonytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const password = "correct horse battery"

// acceptor hands out fake legs for answers; a trickle answer names the
// leg's events socket.
type acceptor struct{ legs chan *telephonytest.Leg }

func (a *acceptor) Accept(_ context.Context, offer string, info telephony.LegInfo, trickle bool) (string, string, telephony.Leg, error) {
	l := telephonytest.NewLeg(info)
	a.legs <- l
	if trickle {
		return "v=0\r\nanswer", "/webrtc/events/" + info.ID, l, nil
	}
	return "v=0\r\nanswer", "", l, nil
}

type rig struct {
	srv *httptest.Server
	q   *consultants.Service
	e   *echo.Echo
	acc *acceptor
}

// newRig starts a console on real Redis; ice are its STUN/TURN URLs.
func newRig(t *testing.T, ice ...string) *rig {
	t.Helper()
	rdb, prefix := redistest.Real(t)
	acc := &acceptor{legs: make(chan *telephonytest.Leg, 4)}
	srv, q, e := serveConsole(t, rdb, prefix, acc, console.Options{
		Users: []console.User{
			{Name: "ala", DisplayName: "Ala", Role: console.RoleConsultant},
			{Name: "ola", DisplayName: "Ola", Role: console.RoleConsultant},
			{Name: "szef", DisplayName: "Szef", Role: console.RoleSupervisor},
		},
		LoginLimit: 3, LoginWindow: time.Minute, ICEServers: iceServers(ice),
	})
	return &rig{srv: srv, q: q, e: e, acc: acc}
}

// serveConsole runs a console and its consultants service (always within
// hours) on rdb under prefix until the test ends; opt.Users log in with
// password.
func serveConsole(t *testing.T, rdb redis.UniversalClient, prefix string, legs console.LegAcceptor, opt console.Options) (*httptest.Server, *consultants.Service, *echo.Echo) {
	t.Helper()
	hours, err := calendar.ParseHours(time.UTC, "mon-sun 00:00-24:00")
	if err != nil {
		t.Fatal(err)
	}
	q := consultants.New(rdb, prefix, consultants.Options{Hours: hours, Poll: 20 * time.Millisecond, QueueTimeout: time.Minute}, nil)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for i := range opt.Users {
		opt.Users[i].PasswordHash = string(hash)
	}
	c, err := console.New(rdb, prefix, q, legs, opt)
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	c.Mount(e)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = q.Run(ctx); done <- struct{}{} }()
	go func() { _ = c.Run(ctx); done <- struct{}{} }()
	<-q.Ready()
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		cancel()
		<-done
		<-done
	})
	return srv, q, e
}

// browser is a logged-in (or not) HTTP client with a cookie jar.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
	csrf string
}

func (r *rig) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: r.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) login(user, pass string) int {
	b.t.Helper()
	res, err := b.c.PostForm(b.base+"/console/login", url.Values{"user": {user}, "password": {pass}})
	if err != nil {
		b.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusSeeOther {
		page := b.do("GET", "/console", "", nil)
		m := regexp.MustCompile(`name="csrf-token" content="([0-9a-f]+)"`).FindStringSubmatch(page.body)
		if m == nil {
			b.t.Fatalf("no CSRF token in the console page (%d)", page.code)
		}
		b.csrf = m[1]
	}
	return res.StatusCode
}

type reply struct {
	code int
	body string
}

func (b *browser) do(method, path, body string, hdr map[string]string) reply {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	var sb strings.Builder
	_, _ = fmt.Fprint(&sb, readAll(res))
	return reply{res.StatusCode, sb.String()}
}

func readAll(res *http.Response) string {
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String()
		}
	}
}

// post sends a state-changing request with the session's CSRF token.
func (b *browser) post(path, body string) reply {
	return b.do("POST", path, body, map[string]string{"X-CSRF-Token": b.csrf})
}

func (b *browser) dial(csrf string, origin string) (*websocket.Conn, int) {
	b.t.Helper()
	u := strings.Replace(b.base, "http", "ws", 1) + "/console/ws?csrf=" + csrf
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, res, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: b.c, HTTPHeader: h})
	if err != nil {
		if res == nil {
			b.t.Fatal(err)
		}
		return nil, res.StatusCode
	}
	b.t.Cleanup(func() { conn.CloseNow() })
	return conn, http.StatusSwitchingProtocols
}

func TestUnauthenticatedIsRefused(t *testing.T) {
	r := newRig(t)
	b := r.browser(t)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/console", http.StatusSeeOther},
		{"GET", "/console/api/me", http.StatusUnauthorized},
		{"GET", "/console/api/board", http.StatusUnauthorized},
		{"GET", "/console/api/calls/x", http.StatusUnauthorized},
		{"POST", "/console/api/presence", http.StatusUnauthorized},
		{"POST", "/console/api/calls/x/answer", http.StatusUnauthorized},
		{"POST", "/console/api/calls/x/note", http.StatusUnauthorized},
		{"POST", "/console/logout", http.StatusUnauthorized},
		{"GET", "/console/login", http.StatusOK},
	} {
		if got := b.do(tc.method, tc.path, "", nil).code; got != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, got, tc.want)
		}
	}
	if _, code := b.dial("x", ""); code != http.StatusUnauthorized {
		t.Errorf("socket without a session: %d", code)
	}
	// A forged cookie is no session either.
	u, _ := url.Parse(r.srv.URL + "/console")
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: console.CookieName, Value: strings.Repeat("ab", 32)}})
	if got := b.do("GET", "/console/api/me", "", nil).code; got != http.StatusUnauthorized {
		t.Errorf("forged cookie: %d", got)
	}
}

func TestLoginCookieAndRateLimit(t *testing.T) {
	r := newRig(t)
	b := r.browser(t)
	if got := b.login("ala", password); got != http.StatusSeeOther {
		t.Fatalf("login: %d", got)
	}
	u, _ := url.Parse(r.srv.URL + "/console")
	res, err := b.c.PostForm(r.srv.URL+"/console/login", url.Values{"user": {"ala"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var ck *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == console.CookieName {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console" {
		t.Fatalf("session cookie %+v", ck)
	}
	if len(b.c.Jar.Cookies(u)) == 0 {
		t.Fatal("no cookie kept")
	}
	// Wrong passwords: after LoginLimit failures the right one is refused too.
	other := r.browser(t)
	for i := range 3 {
		if got := other.login("ola", "wrong"); got != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i, got)
		}
	}
	if got := other.login("ola", password); got != http.StatusTooManyRequests {
		t.Fatalf("after 3 failures: %d", got)
	}
	// Per user as well as per IP: the same user from another address.
	req := httptest.NewRequest("POST", "/console/login", strings.NewReader(url.Values{"user": {"ola"}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "192.0.2.7:4000"
	rec := httptest.NewRecorder()
	r.e.ServeHTTP(rec, req)
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("same user from another IP: %d", rec.Code)
	}
	// Unknown users count against the IP.
	req = httptest.NewRequest("POST", "/console/login", strings.NewReader(url.Values{"user": {"szef"}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "192.0.2.8:4000"
	rec = httptest.NewRecorder()
	r.e.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("another user from another IP: %d", rec.Code)
	}
}

func TestCSRF(t *testing.T) {
	r := newRig(t)
	b := r.browser(t)
	if b.login("ala", password) != http.StatusSeeOther {
		t.Fatal("login")
	}
	body := `{"state":"available"}`
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"no token", nil, http.StatusForbidden},
		{"wrong token", map[string]string{"X-CSRF-Token": strings.Repeat("0", 64)}, http.StatusForbidden},
		{"foreign origin", map[string]string{"X-CSRF-Token": b.csrf, "Origin": "https://evil.example"}, http.StatusForbidden},
		{"good", map[string]string{"X-CSRF-Token": b.csrf, "Origin": r.srv.URL}, http.StatusOK},
	} {
		if got := b.do("POST", "/console/api/presence", body, tc.hdr).code; got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	if _, code := b.dial("", ""); code != http.StatusForbidden {
		t.Errorf("socket without token: %d", code)
	}
	if _, code := b.dial(b.csrf, "https://evil.example"); code != http.StatusForbidden {
		t.Errorf("socket from a foreign origin: %d", code)
	}
	if _, code := b.dial(b.csrf, ""); code != http.StatusSwitchingProtocols {
		t.Errorf("socket: %d", code)
	}
	// Another session's token is not this session's.
	o := r.browser(t)
	o.login("ola", password)
	if got := b.do("POST", "/console/api/presence", body, map[string]string{"X-CSRF-Token": o.csrf}).code; got != http.StatusForbidden {
		t.Errorf("another session's token: %d", got)
	}
	// Logout ends the session.
	if got := b.post("/console/logout", "").code; got != http.StatusSeeOther {
		t.Fatalf("logout: %d", got)
	}
	if got := b.do("GET", "/console/api/me", "", nil).code; got != http.StatusUnauthorized {
		t.Fatalf("after logout: %d", got)
	}
}

// readUntil reads socket messages until one of type typ.
func readUntil(t *testing.T, conn *websocket.Conn, typ string) (map[string]any, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var seen []string
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s (saw %v): %v", typ, seen, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, m["type"].(string))
		if m["type"] == typ {
			return m, seen
		}
	}
}

func TestOnlyTheOfferedConsultantSeesAndAnswers(t *testing.T) {
	r := newRig(t)
	ala, ola, szef := r.browser(t), r.browser(t), r.browser(t)
	for _, b := range []*browser{ala, ola, szef} {
		user := map[*browser]string{ala: "ala", ola: "ola", szef: "szef"}[b]
		if b.login(user, password) != http.StatusSeeOther {
			t.Fatal("login", user)
		}
	}
	alaWS, _ := ala.dial(ala.csrf, "")
	olaWS, _ := ola.dial(ola.csrf, "")
	readUntil(t, alaWS, "queue")
	readUntil(t, olaWS, "queue")
	if got := ala.post("/console/api/presence", `{"state":"available"}`).code; got != http.StatusOK {
		t.Fatalf("presence: %d", got)
	}
	// A caller waits; the queue offers them to ala (ola is away).
	ctx, cancel := context.WithCancel(context.Background())
	type waited struct {
		leg  telephony.Leg
		back <-chan struct{}
		err  error
	}
	done := make(chan waited, 1)
	go func() {
		leg, back, err := r.q.Wait(ctx, &assistant.TransferContext{CallID: "call-77", Reason: "caller_request", Verified: true, CaseNumber: "7654321"}, func(int) {})
		done <- waited{leg, back, err}
	}()
	defer func() { cancel(); <-done }()
	offer, _ := readUntil(t, alaWS, "offer")
	if pop := offer["popup"].(map[string]any); pop["case_number"] != "7654321" || offer["call_id"] != "call-77" {
		t.Fatalf("offer %v", offer)
	}
	// Ola's socket gets the next broadcast without ever seeing the offer.
	if _, seen := readUntil(t, olaWS, "queue"); strings.Contains(strings.Join(seen, ","), "offer") {
		t.Fatalf("ola saw %v", seen)
	}
	for _, tc := range []struct {
		name, method, path, body string
		want                     int
	}{
		{"record", "GET", "/console/api/calls/call-77", "", http.StatusNotFound},
		{"answer", "POST", "/console/api/calls/call-77/answer", `{"sdp":"v=0\r\n"}`, http.StatusNotFound},
		{"back", "POST", "/console/api/calls/call-77/back", "", http.StatusNotFound},
		{"hangup", "POST", "/console/api/calls/call-77/hangup", "", http.StatusNotFound},
		{"note", "POST", "/console/api/calls/call-77/note", `{"text":"x"}`, http.StatusNotFound},
		{"board", "GET", "/console/api/board", "", http.StatusForbidden},
	} {
		if got := ola.do(tc.method, tc.path, tc.body, map[string]string{"X-CSRF-Token": ola.csrf}).code; got != tc.want {
			t.Errorf("ola %s: %d, want %d", tc.name, got, tc.want)
		}
	}
	if got := ala.do("GET", "/console/api/calls/call-77", "", nil); got.code != http.StatusOK || !strings.Contains(got.body, "7654321") {
		t.Fatalf("ala's record: %d %s", got.code, got.body)
	}
	if got := szef.do("GET", "/console/api/board", "", nil); got.code != http.StatusOK || !strings.Contains(got.body, "call-77") {
		t.Fatalf("supervisor board: %d %s", got.code, got.body)
	}
	// Ala answers (trickling ICE): her browser's leg goes to the waiting
	// caller, and she alone learns where its candidates are exchanged.
	got := ala.post("/console/api/calls/call-77/answer", `{"sdp":"v=0\r\noffer","trickle":true}`)
	var ans map[string]string
	if got.code != http.StatusOK || json.Unmarshal([]byte(got.body), &ans) != nil || !strings.Contains(ans["sdp"], "answer") {
		t.Fatalf("answer: %d %s", got.code, got.body)
	}
	if ev := ans["events"]; !strings.HasPrefix(ev, "/webrtc/events/console-") || len(ev) < len("/webrtc/events/console-")+64 {
		t.Errorf("trickle answer's events socket %q: want the leg's, keyed by a 256-bit id", ev)
	}
	leg := <-r.acc.legs
	w := <-done
	if w.err != nil || w.leg != telephony.Leg(leg) {
		t.Fatalf("caller got %v %v", w.leg, w.err)
	}
	done <- w
	if got := ala.post("/console/api/calls/call-77/note", `{"text":"Obiecał wpłatę w piątek."}`).code; got != http.StatusOK {
		t.Fatalf("note: %d", got)
	}
	if got := ala.do("GET", "/console/api/calls/call-77", "", nil); !strings.Contains(got.body, "Obiecał wpłatę") {
		t.Fatalf("note not in the record: %s", got.body)
	}
	// Hang-up from the console ends her leg.
	if got := ala.post("/console/api/calls/call-77/hangup", "").code; got != http.StatusOK {
		t.Fatalf("hangup: %d", got)
	}
	select {
	case <-leg.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("consultant leg not hung up")
	}
}

// iceServers serves urls as one RTCIceServer, as webrtcgw does for STUN.
func iceServers(urls []string) func() any {
	if len(urls) == 0 {
		return nil
	}
	return func() any { return []map[string][]string{{"urls": urls}} }
}

// TestPageCarriesICEServers: the console page hands the configured
// STUN/TURN URLs to its RTCPeerConnection as RTCConfiguration.iceServers
// (a meta tag: the CSP allows no inline script), [] without any.
func TestPageCarriesICEServers(t *testing.T) {
	for _, tc := range []struct {
		name string
		urls []string
		want string
	}{
		{"none", nil, `[]`},
		{"stun and turn", []string{"stun:stun.example.com:3478", "turn:turn.example.com:3478?transport=udp"},
			`[{"urls":["stun:stun.example.com:3478","turn:turn.example.com:3478?transport=udp"]}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newRig(t, tc.urls...).browser(t)
			if code := b.login("ala", password); code != http.StatusSeeOther {
				t.Fatalf("login = %d", code)
			}
			page := b.do("GET", "/console", "", nil)
			m := regexp.MustCompile(`<meta name="ice-servers" content="([^"]*)">`).FindStringSubmatch(page.body)
			if m == nil {
				t.Fatalf("no ice-servers meta tag in the console page (%d)", page.code)
			}
			if got := html.UnescapeString(m[1]); got != tc.want {
				t.Errorf("ice-servers = %s, want %s", got, tc.want)
			}
			var list []struct {
				URLs []string `json:"urls"`
			}
			if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &list); err != nil {
				t.Errorf("ice-servers is not JSON: %v", err)
			}
			// The script reads it for its RTCPeerConnection.
			js := b.do("GET", "/console/static/console.js", "", nil)
			if !strings.Contains(js.body, `meta[name="ice-servers"]`) ||
				!strings.Contains(js.body, "new RTCPeerConnection({ iceServers: ICE_SERVERS })") {
				t.Errorf("console.js (%d) does not use the page's ICE servers", js.code)
			}
		})
	}
}
