// Package web serves the public callback request form at /oddzwonienie:
// a debtor leaves a phone number, optionally a case number, picks one of
// the permitted slots and agrees to the privacy notice; the request is
// stored with assistant/callbacks like a callback booked in a call. The
// page is Polish, works without JavaScript and loads nothing from other
// sites (templates and CSS are embedded). Abuse is kept down by a
// honeypot field, a per-IP limit counted in Redis and a signed
// double-submit CSRF token. The same validation (Rules, Submit) serves
// POST /api/v1/callbacks in assistant/httpapi.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/redis/go-redis/v9"

	"hotline/assistant/callbacks"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Paths the form serves.
const (
	Path       = "/oddzwonienie"
	StaticPath = "/oddzwonienie/static"
)

// Form field names beyond the request's own.
const (
	fieldSlot     = "slot"       // the chosen slot start, RFC 3339
	fieldToken    = "csrf_token" // the signed CSRF token
	fieldHoneypot = "website"    // hidden from people; bots fill it in
	cookieName    = "oddzwonienie_csrf"
)

// maxBody bounds a form post; a real one is well under 1 KiB.
const maxBody = "16K"

// Company is the data controller named in the privacy notice.
type Company struct {
	Name    string
	Address string // optional
	Email   string // optional
	Phone   string // optional
}

// Options configure the form.
type Options struct {
	Redis  redis.UniversalClient
	Prefix string // Redis key prefix (default "hotline:")
	Slots  Scheduler
	Rules  Rules
	// Company is named in the privacy notice (GDPR art. 13).
	Company Company
	// Offered is how many next free slots the form lists (default 160,
	// two weeks of working days with the default hours).
	Offered int
	// Limit submissions per IP per LimitWindow (default 10 per 10 minutes).
	Limit       int
	LimitWindow time.Duration
	// SecureCookie marks the CSRF cookie Secure (set it behind HTTPS).
	SecureCookie bool
	Logger       *slog.Logger
	Now          func() time.Time // optional, for tests
}

// Form is the callback request form.
type Form struct {
	opt   Options
	csrf  *csrf
	limit *limiter
	tmpl  *template.Template
	log   *slog.Logger
}

// New builds the form; it reads (or creates) the shared CSRF key in Redis.
func New(ctx context.Context, opt Options) (*Form, error) {
	if opt.Redis == nil || opt.Slots == nil {
		return nil, errors.New("web: Redis and Slots are required")
	}
	if opt.Prefix == "" {
		opt.Prefix = "hotline:"
	}
	if opt.Offered <= 0 {
		opt.Offered = 160
	}
	if opt.Limit <= 0 {
		opt.Limit = 10
	}
	if opt.LimitWindow <= 0 {
		opt.LimitWindow = 10 * time.Minute
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	c, err := loadCSRF(ctx, opt.Redis, opt.Prefix)
	if err != nil {
		return nil, err
	}
	tmpl, err := template.ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	return &Form{
		opt: opt, csrf: c, tmpl: tmpl, log: opt.Logger,
		limit: &limiter{rdb: opt.Redis, prefix: opt.Prefix, max: opt.Limit, window: opt.LimitWindow},
	}, nil
}

// Mount adds GET and POST /oddzwonienie and the stylesheet to e.
func (f *Form) Mount(e *echo.Echo) {
	static, _ := fs.Sub(staticFS, "static")
	e.GET(StaticPath+"/*", echo.WrapHandler(http.StripPrefix(StaticPath, http.FileServer(http.FS(static)))), headers)
	e.GET(Path, f.show, headers)
	e.POST(Path, f.submit, headers, middleware.BodyLimit(maxBody))
}

// headers keeps the page to itself: no framing, no scripts, styles from
// this site only.
func headers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		return next(c)
	}
}

// page is what the form template shows.
type page struct {
	Company Company
	Token   string
	Values  map[string]string
	Errors  FieldErrors
	Days    []day
	Problem string // a message over the whole form
	NoSlots bool
}

type day struct {
	Label string
	Slots []slot
}

type slot struct {
	Value, Label string
	Selected     bool
}

// done is what the confirmation template shows.
type done struct {
	Company Company
	When    string
	Phone   string
}

func (f *Form) show(c echo.Context) error {
	return f.render(c, http.StatusOK, map[string]string{}, nil, "")
}

// render shows the form with values and errors, with a fresh CSRF pair.
func (f *Form) render(c echo.Context, code int, values map[string]string, fe FieldErrors, problem string) error {
	ctx := c.Request().Context()
	now := f.opt.Now()
	starts, err := f.opt.Slots.Slots(ctx, now, f.opt.Offered)
	if err != nil {
		f.log.Error("callback form: slots unavailable", "err", err)
		return f.html(c, http.StatusServiceUnavailable, "error.html", map[string]any{
			"Message": "Formularz jest chwilowo niedostępny. Prosimy spróbować za kilka minut.", "Company": f.opt.Company})
	}
	p := page{Company: f.opt.Company, Values: values, Errors: fe, Problem: problem, NoSlots: len(starts) == 0}
	loc, length := f.opt.Slots.Location(), f.opt.Slots.SlotLength()
	for _, st := range starts {
		label := DayLabel(st, loc)
		if len(p.Days) == 0 || p.Days[len(p.Days)-1].Label != label {
			p.Days = append(p.Days, day{Label: label})
		}
		v := st.In(loc).Format(time.RFC3339)
		d := &p.Days[len(p.Days)-1]
		d.Slots = append(d.Slots, slot{Value: v, Label: WindowLabel(st, length, loc), Selected: v == values[fieldSlot]})
	}
	nonce := f.csrf.nonce()
	c.SetCookie(&http.Cookie{
		Name: cookieName, Value: nonce, Path: Path, HttpOnly: true, Secure: f.opt.SecureCookie,
		SameSite: http.SameSiteStrictMode, MaxAge: int((2 * time.Hour).Seconds()),
	})
	p.Token = f.csrf.token(nonce)
	return f.html(c, code, "form.html", p)
}

func (f *Form) html(c echo.Context, code int, name string, data any) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(code)
	if err := f.tmpl.ExecuteTemplate(c.Response(), name, data); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	return nil
}

// clientIP is the peer address, or echo's RealIP when the deployment
// configured a trusted IP extractor (behind a proxy); a header a client
// can set must not choose its own rate-limit bucket.
func clientIP(c echo.Context) string {
	if c.Echo().IPExtractor != nil {
		return c.RealIP()
	}
	host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
	if err != nil {
		return c.Request().RemoteAddr
	}
	return host
}

func (f *Form) submit(c echo.Context) error {
	ctx := c.Request().Context()
	now := f.opt.Now()
	if err := f.limit.allow(ctx, clientIP(c), now); err != nil {
		if errors.Is(err, errLimited) {
			return f.html(c, http.StatusTooManyRequests, "error.html", map[string]any{
				"Message": "Z tego adresu wysłano ostatnio zbyt wiele próśb. Prosimy spróbować później.", "Company": f.opt.Company})
		}
		f.log.Error("callback form: rate limit unavailable", "err", err)
		return f.html(c, http.StatusServiceUnavailable, "error.html", map[string]any{
			"Message": "Formularz jest chwilowo niedostępny. Prosimy spróbować za kilka minut.", "Company": f.opt.Company})
	}
	values := map[string]string{
		FieldPhone:      c.FormValue(FieldPhone),
		FieldCaseNumber: c.FormValue(FieldCaseNumber),
		fieldSlot:       c.FormValue(fieldSlot),
		FieldConsent:    c.FormValue(FieldConsent),
	}
	cookie, _ := c.Cookie(cookieName)
	nonce := ""
	if cookie != nil {
		nonce = cookie.Value
	}
	if !f.csrf.valid(nonce, c.FormValue(fieldToken)) {
		return f.render(c, http.StatusForbidden, values, nil,
			"Formularz wygasł albo został wysłany z innej strony. Prosimy sprawdzić dane i wysłać go jeszcze raz.")
	}
	in := Input{Phone: values[FieldPhone], CaseNumber: values[FieldCaseNumber], At: values[fieldSlot]}
	if c.FormValue(fieldHoneypot) != "" {
		// A bot: it sees the usual confirmation, and nothing is stored.
		f.log.Info("callback form: honeypot filled; nothing stored")
		return f.confirm(c, in, now)
	}
	_, fe := f.opt.Rules.Check(in, now)
	if values[FieldConsent] == "" {
		if fe == nil {
			fe = FieldErrors{}
		}
		fe[FieldConsent] = MsgConsent
	}
	if fe != nil {
		return f.render(c, http.StatusBadRequest, values, fe, "")
	}
	cb, fe, err := Submit(ctx, f.opt.Slots, f.opt.Rules, in, callbacks.SourceForm, now)
	switch {
	case errors.Is(err, ErrSlotFull):
		return f.render(c, http.StatusConflict, values, fe, "")
	case errors.Is(err, ErrFields):
		return f.render(c, http.StatusBadRequest, values, fe, "")
	case err != nil:
		f.log.Error("callback form: storing failed", "err", err)
		return f.render(c, http.StatusServiceUnavailable, values, nil,
			"Nie udało się zapisać prośby. Prosimy spróbować za kilka minut.")
	}
	f.log.Info("callback requested through the form", "callback_id", cb.ID, "slot", cb.Slot)
	return f.html(c, http.StatusOK, "done.html", done{
		Company: f.opt.Company, Phone: FormatPhone(cb.Phone),
		When: SlotWords(cb.Slot, f.opt.Slots.SlotLength(), f.opt.Slots.Location()),
	})
}

// confirm shows the confirmation for in without storing it (honeypot).
func (f *Form) confirm(c echo.Context, in Input, now time.Time) error {
	req, _ := f.opt.Rules.Check(in, now)
	when := "w wybranym terminie"
	if !req.At.IsZero() {
		when = SlotWords(req.At, f.opt.Slots.SlotLength(), f.opt.Slots.Location())
	}
	return f.html(c, http.StatusOK, "done.html", done{Company: f.opt.Company, Phone: FormatPhone(req.Phone), When: when})
}
