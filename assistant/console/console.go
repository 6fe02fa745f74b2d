// Package console is the consultants' web console (/console, in Polish):
// login with bcrypt passwords and a rate limit, a session cookie
// (HttpOnly, SameSite=Strict, Secure), a CSRF token on every
// state-changing request and on the WebSocket handshake, presence, the
// ringing offer with its screen-pop, answering in the browser (the
// consultant's WebRTC leg is bridged to the waiting caller, on whichever
// instance the caller waits: the answer is relayed there), sending the
// caller back to the assistant, hanging up, notes, a supervisor's live
// board, and the callbacks handed to the consultants (take, report,
// release; callbacks.go). Pages and scripts are embedded (web/).
package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"hotline/assistant/consultants"
	"hotline/telephony"
)

// Queue is what the console needs of the consultants' queue
// (consultants.Service).
type Queue interface {
	SetPresence(ctx context.Context, user, name string, st consultants.State) (consultants.State, error)
	Heartbeat(ctx context.Context, user string) error
	PresenceOf(ctx context.Context, user string) (consultants.Presence, error)
	Answer(ctx context.Context, id, user string) error
	Connect(ctx context.Context, id, user string, leg telephony.Leg) error
	// HandleAnswers and RelayAnswer answer a caller who waits on another
	// instance (Answer's ErrElsewhere).
	HandleAnswers(h consultants.AnswerHandler)
	RelayAnswer(ctx context.Context, id, user, offerSDP string, timeout time.Duration) (string, error)
	Back(ctx context.Context, id, user string) error
	Hangup(ctx context.Context, id, user string) error
	Call(ctx context.Context, id string) (consultants.Call, error)
	Record(ctx context.Context, id string) (consultants.Call, error)
	AddNote(ctx context.Context, id, user, text string) (consultants.Note, error)
	Board(ctx context.Context) (consultants.Board, error)
	Subscribe() (<-chan consultants.Event, func())
	PresenceTTL() time.Duration
}

var _ Queue = (*consultants.Service)(nil)

// LegAcceptor turns a consultant browser's SDP offer into a leg that the
// console owns (telephony/webrtcgw.Gateway.Accept, adapted in cmd).
type LegAcceptor interface {
	// Accept negotiates offerSDP. With trickle the offer's ICE candidates
	// follow and the answer comes without waiting for ours (RFC 8838);
	// events is then the URL path of the leg's WebSocket that carries the
	// candidates both ways, "" if the acceptor cannot trickle (the answer
	// is then complete, and the browser reaches us from our candidates).
	Accept(ctx context.Context, offerSDP string, info telephony.LegInfo, trickle bool) (answerSDP, events string, leg telephony.Leg, err error)
}

// Options configure the console.
type Options struct {
	Users        []User
	SessionTTL   time.Duration // 12 h
	CookieSecure bool
	LoginLimit   int           // failed logins per IP and per user within LoginWindow (5)
	LoginWindow  time.Duration // 15 min
	Logger       *slog.Logger
	// ICEServers returns RTCConfiguration.iceServers (JSON-marshalled
	// into each page as it is rendered, so ephemeral TURN credentials are
	// fresh: webrtcgw.Gateway.BrowserICEServers) for the consultant's
	// RTCPeerConnection; nil: [] (host candidates only).
	ICEServers func() any
	// Callbacks, when set, are the due callbacks the consultants call
	// back themselves (outbound.callbacks_to: consultants): the page
	// shows its "Oddzwonienia" panel.
	Callbacks CallbackDesk
}

// Console serves the consultants' web console.
type Console struct {
	rdb    redis.UniversalClient
	prefix string
	q      Queue
	legs   LegAcceptor
	opt    Options
	log    *slog.Logger
	users  map[string]User
	pages  *template.Template

	mu      sync.Mutex
	clients map[*client]struct{}
}

//go:embed web
var webFS embed.FS

// New returns a console. legs may be nil (answering is then refused).
func New(rdb redis.UniversalClient, prefix string, q Queue, legs LegAcceptor, opt Options) (*Console, error) {
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = 12 * time.Hour
	}
	if opt.LoginLimit <= 0 {
		opt.LoginLimit = 5
	}
	if opt.LoginWindow <= 0 {
		opt.LoginWindow = 15 * time.Minute
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	users := map[string]User{}
	for _, u := range opt.Users {
		if u.Role != RoleSupervisor {
			u.Role = RoleConsultant
		}
		if u.DisplayName == "" {
			u.DisplayName = u.Name
		}
		users[u.Name] = u
	}
	pages, err := template.ParseFS(webFS, "web/*.html")
	if err != nil {
		return nil, err
	}
	c := &Console{
		rdb: rdb, prefix: prefix, q: q, legs: legs, opt: opt, log: opt.Logger,
		users: users, pages: pages, clients: map[*client]struct{}{},
	}
	// Answers relayed from other instances' consoles, for callers
	// waiting here, take the same path as this console's own.
	q.HandleAnswers(c.answerRelayed)
	return c, nil
}

// Mount adds the console's routes under /console.
func (c *Console) Mount(e *echo.Echo) {
	static, _ := fs.Sub(webFS, "web/static")
	g := e.Group("/console", securityHeaders)
	g.GET("/static/*", echo.WrapHandler(http.StripPrefix("/console/static/", http.FileServerFS(static))))
	g.GET("/login", c.loginPage)
	g.POST("/login", c.loginPost)
	page := c.requireSession(true)
	api := c.requireSession(false)
	g.GET("", c.consolePage, page)
	g.POST("/logout", c.logoutPost, api, requireCSRF)
	g.GET("/ws", c.socket, api)
	g.GET("/api/me", c.me, api)
	g.GET("/api/board", c.board, api)
	g.GET("/api/calls/:id", c.getCall, api)
	g.POST("/api/presence", c.presence, api, requireCSRF)
	g.POST("/api/calls/:id/answer", c.answer, api, requireCSRF)
	g.POST("/api/calls/:id/back", c.back, api, requireCSRF)
	g.POST("/api/calls/:id/hangup", c.hangup, api, requireCSRF)
	g.POST("/api/calls/:id/note", c.note, api, requireCSRF)
	c.mountCallbacks(g, api) // callbacks.go
}

// securityHeaders: no framing, no sniffing, scripts and styles only from
// this origin, no referrer leaking call ids to other sites.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(e echo.Context) error {
		h := e.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin") // "no-referrer" would make Chromium send Origin: null on our own form posts
		h.Set("Cache-Control", "no-store")
		return next(e)
	}
}

func (c *Console) render(e echo.Context, code int, name string, data any) error {
	var b strings.Builder
	if err := c.pages.ExecuteTemplate(&b, name, data); err != nil {
		return err
	}
	return e.HTML(code, b.String())
}

type loginData struct {
	Error string
	User  string
}

func (c *Console) loginPage(e echo.Context) error {
	if c.session(e.Request()) != nil {
		return e.Redirect(http.StatusSeeOther, "/console")
	}
	return c.render(e, http.StatusOK, "login.html", loginData{})
}

func (c *Console) loginPost(e echo.Context) error {
	if !sameOrigin(e.Request()) {
		return echo.NewHTTPError(http.StatusForbidden, "cross-origin login refused")
	}
	name := strings.TrimSpace(e.FormValue("user"))
	token, err := c.login(e.Request().Context(), clientIP(e.Request()), name, e.FormValue("password"))
	switch {
	case errors.Is(err, ErrRateLimited):
		c.log.Warn("console: login rate limited", "ip", clientIP(e.Request()))
		return c.render(e, http.StatusTooManyRequests, "login.html",
			loginData{Error: "Zbyt wiele nieudanych prób logowania. Spróbuj ponownie za kilkanaście minut.", User: name})
	case errors.Is(err, ErrBadLogin):
		return c.render(e, http.StatusUnauthorized, "login.html", loginData{Error: "Nieprawidłowa nazwa użytkownika lub hasło.", User: name})
	case err != nil:
		return echo.NewHTTPError(http.StatusServiceUnavailable, "login unavailable").SetInternal(err)
	}
	c.setCookie(e, token)
	c.log.Info("console: login", "user", name)
	return e.Redirect(http.StatusSeeOther, "/console")
}

func (c *Console) logoutPost(e echo.Context) error {
	s := sess(e)
	if _, err := c.q.SetPresence(e.Request().Context(), s.user.Name, s.user.DisplayName, consultants.Offline); err != nil {
		c.log.Warn("console: presence on logout", "err", err)
	}
	c.logout(e.Request())
	c.setCookie(e, "")
	return e.Redirect(http.StatusSeeOther, "/console/login")
}

type pageData struct {
	CSRF        string
	User        string
	DisplayName string
	Supervisor  bool
	// ICEServers is RTCConfiguration.iceServers as JSON, for the page's
	// RTCPeerConnection (a meta tag; the CSP allows no inline script).
	ICEServers string
	// Callbacks shows the consultants' callbacks panel.
	Callbacks bool
}

// iceServersJSON renders the page's RTCConfiguration.iceServers.
func (c *Console) iceServersJSON() (string, error) {
	if c.opt.ICEServers == nil {
		return "[]", nil
	}
	b, err := json.Marshal(c.opt.ICEServers())
	if err != nil {
		return "", fmt.Errorf("console: ICE servers: %w", err)
	}
	return string(b), nil
}

func (c *Console) consolePage(e echo.Context) error {
	s := sess(e)
	ice, err := c.iceServersJSON()
	if err != nil {
		return err
	}
	return c.render(e, http.StatusOK, "console.html", pageData{
		CSRF: s.csrf, User: s.user.Name, DisplayName: s.user.DisplayName, Supervisor: s.user.Role == RoleSupervisor,
		ICEServers: ice, Callbacks: c.opt.Callbacks != nil,
	})
}

// meView is the console's state on (re)load.
type meView struct {
	User        string               `json:"user"`
	DisplayName string               `json:"display_name"`
	Role        string               `json:"role"`
	Presence    consultants.Presence `json:"presence"`
	Call        *consultants.Call    `json:"call,omitempty"`  // ringing or connected
	Board       *consultants.Board   `json:"board,omitempty"` // supervisors
	// Callbacks: due callbacks are handed to the consultants
	// (/console/api/callbacks).
	Callbacks bool `json:"callbacks"`
}

func (c *Console) me(e echo.Context) error {
	ctx := e.Request().Context()
	s := sess(e)
	p, err := c.q.PresenceOf(ctx, s.user.Name)
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "queue unavailable").SetInternal(err)
	}
	v := meView{User: s.user.Name, DisplayName: s.user.DisplayName, Role: s.user.Role, Presence: p,
		Callbacks: c.opt.Callbacks != nil}
	if p.Call != "" {
		if rec, err := c.q.Record(ctx, p.Call); err == nil && rec.Consultant == s.user.Name {
			v.Call = &rec
		}
	}
	if s.user.Role == RoleSupervisor {
		if b, err := c.q.Board(ctx); err == nil {
			v.Board = &b
		}
	}
	return e.JSON(http.StatusOK, v)
}

func (c *Console) board(e echo.Context) error {
	if sess(e).user.Role != RoleSupervisor {
		return echo.NewHTTPError(http.StatusForbidden, "supervisors only")
	}
	b, err := c.q.Board(e.Request().Context())
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "queue unavailable").SetInternal(err)
	}
	return e.JSON(http.StatusOK, b)
}

// callFor returns a call the session may see: offered to (or taken by)
// this consultant, or any call for a supervisor. Others get 404, so a
// consultant cannot even learn that a call id exists.
func (c *Console) callFor(e echo.Context, full bool) (consultants.Call, error) {
	s := sess(e)
	get := c.q.Call
	if full {
		get = c.q.Record
	}
	rec, err := get(e.Request().Context(), e.Param("id"))
	if errors.Is(err, consultants.ErrNoCall) {
		return rec, echo.NewHTTPError(http.StatusNotFound, "no such call")
	}
	if err != nil {
		return rec, echo.NewHTTPError(http.StatusServiceUnavailable, "queue unavailable").SetInternal(err)
	}
	if rec.Consultant != s.user.Name && s.user.Role != RoleSupervisor {
		return consultants.Call{}, echo.NewHTTPError(http.StatusNotFound, "no such call")
	}
	return rec, nil
}

func (c *Console) getCall(e echo.Context) error {
	rec, err := c.callFor(e, true)
	if err != nil {
		return err
	}
	return e.JSON(http.StatusOK, rec)
}

func (c *Console) presence(e echo.Context) error {
	var body struct {
		State string `json:"state"`
	}
	if err := e.Bind(&body); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "want {\"state\": …}")
	}
	s := sess(e)
	st, err := c.q.SetPresence(e.Request().Context(), s.user.Name, s.user.DisplayName, consultants.State(body.State))
	if errors.Is(err, consultants.ErrBadState) {
		return echo.NewHTTPError(http.StatusBadRequest, "state must be available, away or offline")
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "queue unavailable").SetInternal(err)
	}
	return e.JSON(http.StatusOK, map[string]string{"state": string(st)})
}

// answerTimeout bounds the WebRTC negotiation of an answer, and how long
// a console waits for an answer relayed to the caller's instance.
const answerTimeout = 15 * time.Second

// errNoBrowserCalls: this instance has no gateway for consultants' legs.
var errNoBrowserCalls = fmt.Errorf("%w: browser calls are not enabled", consultants.ErrUnavailable)

func (c *Console) answer(e echo.Context) error {
	if c.legs == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "browser calls are not enabled")
	}
	var body struct {
		SDP     string `json:"sdp"`
		Trickle bool   `json:"trickle"`
	}
	if err := e.Bind(&body); err != nil || !strings.HasPrefix(body.SDP, "v=0") {
		return echo.NewHTTPError(http.StatusBadRequest, "want {\"sdp\": the SDP offer, \"trickle\": bool}")
	}
	if _, err := c.callFor(e, false); err != nil {
		return err
	}
	ctx := e.Request().Context()
	s, id := sess(e), e.Param("id")
	answer, events, err := c.answerHere(ctx, id, s.user.Name, body.SDP, body.Trickle)
	relayed := errors.Is(err, consultants.ErrElsewhere)
	if relayed {
		// The caller waits on another instance: their media lives in that
		// process and cannot be bridged to a leg here, but the signalling
		// can travel. That instance negotiates the consultant's leg from
		// this offer (complete, without trickle: the browser has no
		// candidate socket there) and its answer comes back through
		// Redis; the browser's media then goes straight to it.
		answer, err = c.q.RelayAnswer(ctx, id, s.user.Name, body.SDP, answerTimeout)
	}
	if err != nil {
		return answerError(err)
	}
	c.log.Info("console: call answered", "call_id", id, "user", s.user.Name, "relayed", relayed)
	out := map[string]string{"sdp": answer}
	if events != "" {
		out["events"] = events
	}
	return e.JSON(http.StatusOK, out)
}

// answerHere answers call id for user on this instance, where its caller
// waits (consultants.ErrElsewhere if not): the queue records the answer,
// the browser's offer becomes the consultant's leg (with trickle, events
// names the leg's candidate socket) and the leg is handed to the caller.
// ctx's deadline (a relayed answer's) bounds the negotiation, its
// cancellation does not: once the queue has the answer, the leg is
// connected or the offer given back, whoever stopped waiting.
func (c *Console) answerHere(ctx context.Context, id, user, offerSDP string, trickle bool) (answerSDP, events string, err error) {
	if c.legs == nil {
		return "", "", errNoBrowserCalls
	}
	if err := c.q.Answer(ctx, id, user); err != nil {
		return "", "", err
	}
	deadline := time.Now().Add(answerTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	nctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	// The leg id is the only key to its signalling socket (trickled
	// candidates, the leg's state): as random as a session token, and
	// told only to this consultant, in this authenticated response.
	answerSDP, events, leg, err := c.legs.Accept(nctx, offerSDP, telephony.LegInfo{
		ID: "console-" + randomToken(), Direction: telephony.Outbound, From: "console", To: user,
	}, trickle)
	if err != nil {
		_ = c.q.Hangup(context.WithoutCancel(ctx), id, user)
		return "", "", fmt.Errorf("%w: %w", consultants.ErrOfferRefused, err)
	}
	if err := c.q.Connect(ctx, id, user, leg); err != nil {
		_ = leg.Hangup(context.WithoutCancel(ctx), telephony.CauseFailed)
		// %v: a vanished waiter's ErrElsewhere must not read as "relay it".
		return "", "", fmt.Errorf("%w: %v", consultants.ErrNotWaiting, err)
	}
	return answerSDP, events, nil
}

// answerRelayed answers for another instance's console a caller waiting
// here (the consultants service's AnswerHandler). No trickle: the
// browser's candidates cannot reach a socket on this instance through
// its console, so they arrive as peer-reflexive ones in ICE checks.
func (c *Console) answerRelayed(ctx context.Context, id, user, offerSDP string) (string, error) {
	if !strings.HasPrefix(offerSDP, "v=0") {
		return "", consultants.ErrOfferRefused
	}
	answer, _, err := c.answerHere(ctx, id, user, offerSDP, false)
	if err != nil {
		return "", err
	}
	c.log.Info("console: call answered for another instance's console", "call_id", id, "user", user)
	return answer, nil
}

// answerError maps a local or relayed answer's failure to its HTTP answer.
func answerError(err error) error {
	switch {
	case errors.Is(err, consultants.ErrNotOffered):
		return echo.NewHTTPError(http.StatusConflict, "the call is no longer offered to you").SetInternal(err)
	case errors.Is(err, consultants.ErrNotWaiting):
		return echo.NewHTTPError(http.StatusConflict, "the caller is no longer waiting").SetInternal(err)
	case errors.Is(err, consultants.ErrOfferRefused):
		return echo.NewHTTPError(http.StatusBadRequest, "the browser's offer was refused").SetInternal(err)
	case errors.Is(err, consultants.ErrNoInstance):
		return echo.NewHTTPError(http.StatusGatewayTimeout,
			"no instance holding the caller answered in time; the call may have ended").SetInternal(err)
	case errors.Is(err, errNoBrowserCalls):
		return echo.NewHTTPError(http.StatusServiceUnavailable, "browser calls are not enabled").SetInternal(err)
	case errors.Is(err, consultants.ErrUnavailable):
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the caller's instance cannot answer now").SetInternal(err)
	}
	return echo.NewHTTPError(http.StatusServiceUnavailable, "queue unavailable").SetInternal(err)
}

func (c *Console) back(e echo.Context) error {
	return c.act(e, c.q.Back)
}

func (c *Console) hangup(e echo.Context) error {
	return c.act(e, c.q.Hangup)
}

func (c *Console) act(e echo.Context, do func(ctx context.Context, id, user string) error) error {
	if _, err := c.callFor(e, false); err != nil {
		return err
	}
	err := do(e.Request().Context(), e.Param("id"), sess(e).user.Name)
	if errors.Is(err, consultants.ErrNotOffered) {
		return echo.NewHTTPError(http.StatusConflict, "the call is not yours to act on now")
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "queue unavailable").SetInternal(err)
	}
	return e.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (c *Console) note(e echo.Context) error {
	rec, err := c.callFor(e, false)
	if err != nil {
		return err
	}
	var body struct {
		Text string `json:"text"`
	}
	if err := e.Bind(&body); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "want {\"text\": …}")
	}
	s := sess(e)
	if rec.Consultant != s.user.Name {
		return echo.NewHTTPError(http.StatusForbidden, "only the consultant who took the call adds notes")
	}
	n, err := c.q.AddNote(e.Request().Context(), rec.ID, s.user.Name, body.Text)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "a note must have 1 to 4000 characters").SetInternal(err)
	}
	return e.JSON(http.StatusOK, n)
}
