package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"hotline/assistant/calendar"
	"hotline/assistant/callbacks"
	"hotline/assistant/redistest"
	"hotline/assistant/web"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).reaper"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"), goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

// now is Tuesday 24 November 2026, 10:00 in Warsaw.
var now = time.Date(2026, 11, 24, 10, 0, 0, 0, calendar.Warsaw())

// slotTue is a free slot a week later: Tuesday 1 December, 15:00.
var slotTue = time.Date(2026, 12, 1, 15, 0, 0, 0, calendar.Warsaw())

type formRig struct {
	srv *httptest.Server
	cbs *callbacks.Service
	rdb redis.UniversalClient
}

func newFormRig(t *testing.T, cfg callbacks.Config, opt web.Options) *formRig {
	t.Helper()
	rdb, prefix := redistest.Real(t)
	cfg.Now = func() time.Time { return now }
	cbs, err := callbacks.New(rdb, prefix, cfg)
	if err != nil {
		t.Fatal(err)
	}
	opt.Redis, opt.Prefix, opt.Slots, opt.Now = rdb, prefix, cbs, func() time.Time { return now }
	if opt.Company.Name == "" {
		opt.Company = web.Company{Name: "Alektum", Email: "kontakt@alektum.pl"}
	}
	f, err := web.New(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	f.Mount(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &formRig{srv: srv, cbs: cbs, rdb: rdb}
}

// browser is a client with a cookie jar, as a person's browser.
func (r *formRig) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

var tokenRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// open loads the form and returns its CSRF token.
func (r *formRig) open(t *testing.T, c *http.Client) (string, string) {
	t.Helper()
	res, err := c.Get(r.srv.URL + web.Path)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET form: %d\n%s", res.StatusCode, body)
	}
	m := tokenRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the form:\n%s", body)
	}
	return m[1], body
}

func (r *formRig) post(t *testing.T, c *http.Client, v url.Values) (int, string) {
	t.Helper()
	res, err := c.PostForm(r.srv.URL+web.Path, v)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, readBody(t, res)
}

func readBody(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (r *formRig) stored(t *testing.T) []callbacks.Callback {
	t.Helper()
	list, err := r.cbs.List(context.Background(), now.Add(-time.Hour), now.Add(30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func valid(token string) url.Values {
	return url.Values{
		"csrf_token": {token}, "phone": {"601 234 567"}, "case_number": {"12345678"},
		"slot": {slotTue.Format(time.RFC3339)}, "consent": {"1"},
	}
}

func TestFormShowsSlotsAndNotice(t *testing.T) {
	r := newFormRig(t, callbacks.Config{}, web.Options{})
	_, body := r.open(t, r.browser(t))
	for _, want := range []string{
		`<html lang="pl">`, `<optgroup label="wtorek, 1 grudnia">`,
		`value="` + template(slotTue.Format(time.RFC3339)) + `">15:00–15:30</option>`,
		"Administratorem danych osobowych jest Alektum", "art. 6 ust. 1 lit. f RODO", "Prezesa Urzędu Ochrony Danych Osobowych",
		`name="website"`, `href="/oddzwonienie/static/form.css"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("form lacks %q", want)
		}
	}
	// Slots are offered from now + lead time: nothing today before 11:00.
	if strings.Contains(body, `value="2026-11-24T10:30:00&#43;01:00"`) {
		t.Error("a slot within the lead time is offered")
	}
	if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Error("the page refers to another site")
	}
	res, err := http.Get(r.srv.URL + web.StaticPath + "/form.css")
	if err != nil {
		t.Fatal(err)
	}
	if css := readBody(t, res); res.StatusCode != http.StatusOK || !strings.Contains(css, ".hp") {
		t.Errorf("stylesheet: %d", res.StatusCode)
	}
}

func TestFormSubmitStoresAndConfirms(t *testing.T) {
	r := newFormRig(t, callbacks.Config{}, web.Options{})
	c := r.browser(t)
	token, _ := r.open(t, c)
	code, body := r.post(t, c, valid(token))
	if code != http.StatusOK || !strings.Contains(body, "we wtorek, 1 grudnia, między 15:00 a 15:30") ||
		!strings.Contains(body, "&#43;48 601 234 567") {
		t.Fatalf("confirmation %d:\n%s", code, body)
	}
	list := r.stored(t)
	if len(list) != 1 {
		t.Fatalf("stored %d callbacks", len(list))
	}
	cb := list[0]
	if cb.Phone != "+48601234567" || cb.CaseNumber != "12345678" || cb.Source != callbacks.SourceForm ||
		!cb.At.Equal(slotTue) || cb.Status != callbacks.StatusScheduled {
		t.Errorf("stored %+v", cb)
	}
}

func TestFormRejectsAndStoresNothing(t *testing.T) {
	r := newFormRig(t, callbacks.Config{}, web.Options{Limit: 100})
	tests := []struct {
		name  string
		edit  func(url.Values)
		code  int
		wants []string
	}{
		{"no phone", func(v url.Values) { v.Set("phone", "") }, 400, []string{web.MsgPhoneEmpty, `id="phone-error"`}},
		{"short phone", func(v url.Values) { v.Set("phone", "60123") }, 400, []string{"dziewięć cyfr"}},
		{"letters in phone", func(v url.Values) { v.Set("phone", "601abc567") }, 400, []string{"tylko cyfry"}},
		{"bad case number", func(v url.Values) { v.Set("case_number", "12-AB") }, 400, []string{"Numer akt sprawy to od 6 do 12 cyfr", `id="case-error"`}},
		{"no slot", func(v url.Values) { v.Del("slot") }, 400, []string{web.MsgAtEmpty, `id="slot-error"`}},
		{"garbage slot", func(v url.Values) { v.Set("slot", "jutro") }, 400, []string{web.MsgAtBad}},
		{"slot in the past", func(v url.Values) { v.Set("slot", now.Add(-24*time.Hour).Format(time.RFC3339)) }, 400, []string{web.MsgAtPast}},
		{"slot at night", func(v url.Values) { v.Set("slot", "2026-12-01T22:00:00+01:00") }, 400, []string{"godzinach pracy konsultantów"}},
		{"slot on Sunday", func(v url.Values) { v.Set("slot", "2026-11-29T12:00:00+01:00") }, 400, []string{"godzinach pracy konsultantów"}},
		{"slot too far", func(v url.Values) { v.Set("slot", "2027-03-02T12:00:00+01:00") }, 400, []string{"godzinach pracy konsultantów"}},
		{"no consent", func(v url.Values) { v.Del("consent") }, 400, []string{web.MsgConsent}},
		{"everything wrong", func(v url.Values) { v.Set("phone", "x"); v.Del("slot"); v.Del("consent") }, 400,
			[]string{web.MsgPhoneChars, web.MsgAtEmpty, web.MsgConsent, "Formularz zawiera błędy"}},
		{"no CSRF token", func(v url.Values) { v.Del("csrf_token") }, 403, []string{"wygasł"}},
		{"forged CSRF token", func(v url.Values) { v.Set("csrf_token", "AAAA") }, 403, []string{"wygasł"}},
		{"huge body", func(v url.Values) { v.Set("case_number", strings.Repeat("1", 20000)) }, 413, nil},
	}
	c := r.browser(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, _ := r.open(t, c)
			v := valid(token)
			tt.edit(v)
			code, body := r.post(t, c, v)
			if code != tt.code {
				t.Fatalf("status %d, want %d\n%s", code, tt.code, body)
			}
			for _, w := range tt.wants {
				if !strings.Contains(body, w) {
					t.Errorf("response lacks %q", w)
				}
			}
			if tt.code == 400 && !strings.Contains(body, `value="`+template(v.Get("phone"))+`"`) {
				t.Errorf("typed phone not kept in the form")
			}
			if n := len(r.stored(t)); n != 0 {
				t.Fatalf("%d callbacks stored", n)
			}
		})
	}
}

// template escapes like html/template does for the characters used here.
func template(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", `"`, "&#34;", "+", "&#43;").Replace(s)
}

func TestFormTokenOfAnotherBrowserIsRefused(t *testing.T) {
	r := newFormRig(t, callbacks.Config{}, web.Options{})
	token, _ := r.open(t, r.browser(t))
	other := r.browser(t)
	r.open(t, other) // its own cookie, someone else's token
	if code, _ := r.post(t, other, valid(token)); code != http.StatusForbidden {
		t.Fatalf("status %d, want 403", code)
	}
	if n := len(r.stored(t)); n != 0 {
		t.Fatalf("%d stored", n)
	}
}

func TestFormHoneypotStoresNothing(t *testing.T) {
	r := newFormRig(t, callbacks.Config{}, web.Options{})
	c := r.browser(t)
	token, _ := r.open(t, c)
	v := valid(token)
	v.Set("website", "http://spam.example")
	code, body := r.post(t, c, v)
	if code != http.StatusOK || !strings.Contains(body, "prośba przyjęta") {
		t.Fatalf("honeypot answer %d:\n%s", code, body)
	}
	if n := len(r.stored(t)); n != 0 {
		t.Fatalf("%d stored", n)
	}
}

func TestFormSlotFull(t *testing.T) {
	r := newFormRig(t, callbacks.Config{Capacity: 1}, web.Options{})
	c := r.browser(t)
	token, _ := r.open(t, c)
	if code, body := r.post(t, c, valid(token)); code != http.StatusOK {
		t.Fatalf("first: %d\n%s", code, body)
	}
	token, _ = r.open(t, c)
	code, body := r.post(t, c, valid(token))
	if code != http.StatusConflict || !strings.Contains(body, web.MsgAtFull) {
		t.Fatalf("second: %d\n%s", code, body)
	}
	if n := len(r.stored(t)); n != 1 {
		t.Fatalf("%d stored", n)
	}
}

func TestFormRateLimit(t *testing.T) {
	r := newFormRig(t, callbacks.Config{}, web.Options{Limit: 3})
	c := r.browser(t)
	for i := range 4 {
		token, _ := r.open(t, c)
		v := valid(token)
		v.Del("consent") // invalid posts count too
		code, body := r.post(t, c, v)
		want := http.StatusBadRequest
		if i == 3 {
			want = http.StatusTooManyRequests
		}
		if code != want {
			t.Fatalf("post %d: %d, want %d\n%s", i+1, code, want, body)
		}
	}
	// A forged X-Forwarded-For does not get a fresh allowance.
	token, _ := r.open(t, c)
	req, err := http.NewRequest(http.MethodPost, r.srv.URL+web.Path, strings.NewReader(valid(token).Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, res)
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("with X-Forwarded-For: %d", res.StatusCode)
	}
}
