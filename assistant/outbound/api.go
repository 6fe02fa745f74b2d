package outbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// MaxBody is the largest request body the API reads (a CSV of
// MaxCampaignCases case numbers fits comfortably).
const MaxBody = "1M"

// API serves the outbound operator endpoints under /api/v1.
type API struct {
	Gate      *Gate
	Scheduler *Scheduler
	Campaigns *Campaigns
	Ledger    *Ledger
	Phones    PhoneBook        // finds the phone when "to" is empty (may be nil)
	Wake      func()           // tells the dialer there is work now (may be nil)
	Now       func() time.Time // nil: time.Now
	Location  *time.Location   // for YYYY-MM-DD in ledger queries (nil: UTC)
}

// Mount adds the routes to e under /api/v1 behind mw (the bearer-token
// middleware), with a body limit.
func (a *API) Mount(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	mw = append(mw, middleware.BodyLimit(MaxBody))
	g := e.Group("/api/v1", mw...)
	g.POST("/calls/outbound", a.dialNow)
	g.POST("/campaigns", a.createCampaign)
	g.GET("/campaigns/:id", a.getCampaign)
	g.POST("/campaigns/:id/pause", a.pauseCampaign)
	g.POST("/campaigns/:id/resume", a.resumeCampaign)
	a.mountRecords(g)
}

// MountRecords adds only the compliance records (the contact ledger
// export and do-not-call marks; they need Gate and Ledger) under /api/v1:
// what an operator needs while the dialer is off and consultants call the
// callbacks back.
func (a *API) MountRecords(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	mw = append(mw, middleware.BodyLimit(MaxBody))
	a.mountRecords(e.Group("/api/v1", mw...))
}

func (a *API) mountRecords(g *echo.Group) {
	g.GET("/ledger.csv", a.ledgerCSV)
	g.POST("/dnc/:phone", a.addDNC)
	g.DELETE("/dnc/:phone", a.removeDNC)
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// invalid answers 400 with the field errors.
func invalid(c echo.Context, fields ...FieldError) error {
	return c.JSON(http.StatusBadRequest, map[string]any{"error": "invalid request", "fields": fields})
}

// decodeJSON reads a strict JSON body into v.
func decodeJSON(c echo.Context, v any) error {
	ct, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if ct != echo.MIMEApplicationJSON {
		return &ValidationError{Fields: []FieldError{{"body", "Content-Type must be application/json"}}}
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request body too large")
		}
		return &ValidationError{Fields: []FieldError{{"body", "not valid JSON for this endpoint: " + jsonProblem(err)}}}
	}
	if dec.More() {
		return &ValidationError{Fields: []FieldError{{"body", "trailing data after the JSON object"}}}
	}
	return nil
}

// jsonProblem describes a decode error without echoing the input.
func jsonProblem(err error) string {
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &ute):
		return fmt.Sprintf("field %q has the wrong type", ute.Field)
	case errors.As(err, &se):
		return "syntax error at offset " + strconv.FormatInt(se.Offset, 10)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "malformed"
}

// reply maps service errors to HTTP answers.
func reply(c echo.Context, err error) error {
	var ve *ValidationError
	var re *RefusedError
	switch {
	case errors.As(err, &ve):
		return invalid(c, ve.Fields...)
	case errors.As(err, &re):
		body := map[string]any{"error": re.Detail, "rule": re.Rule}
		if !re.RetryAt.IsZero() {
			body["retry_at"] = re.RetryAt
		}
		return c.JSON(http.StatusConflict, body)
	case errors.Is(err, ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "not found")
	case errors.Is(err, ErrInvalid):
		return invalid(c, FieldError{"body", "invalid input"})
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he
	}
	return echo.NewHTTPError(http.StatusServiceUnavailable, "store unavailable").SetInternal(err)
}

// OutboundRequest is the body of POST /api/v1/calls/outbound.
type OutboundRequest struct {
	CaseNumber string `json:"case_number"`
	To         string `json:"to"` // "+48…" or "sip:+48…@host"; empty: the case's phone
}

// phoneOfTarget returns the E.164 number a SIP URI dials.
func phoneOfTarget(to string) (string, bool) {
	u, err := url.Parse(to)
	if err != nil || u.Scheme != "sip" || u.Opaque == "" {
		return "", false
	}
	user, host, ok := strings.Cut(u.Opaque, "@")
	if !ok || host == "" || !ValidPhone(user) {
		return "", false
	}
	return user, true
}

func (a *API) dialNow(c echo.Context) error {
	var req OutboundRequest
	if err := decodeJSON(c, &req); err != nil {
		return reply(c, err)
	}
	var fe []FieldError
	if !validCase(req.CaseNumber) {
		fe = append(fe, FieldError{"case_number", fmt.Sprintf("required, 1-%d printable characters", maxCaseLen)})
	}
	phone, target := req.To, ""
	switch {
	case req.To == "":
	case strings.HasPrefix(req.To, "sip:"):
		p, ok := phoneOfTarget(req.To)
		if !ok {
			fe = append(fe, FieldError{"to", "a sip: URI must dial an E.164 number, e.g. sip:+48123456789@trunk"})
		}
		phone, target = p, req.To
	case !ValidPhone(req.To):
		fe = append(fe, FieldError{"to", "must be an E.164 number (+48…) or a sip: URI"})
	}
	if len(fe) > 0 {
		return invalid(c, fe...)
	}
	ctx := c.Request().Context()
	if phone == "" {
		if a.Phones != nil {
			p, err := a.Phones.Phone(ctx, req.CaseNumber)
			if err == nil && ValidPhone(p) {
				phone = p
			}
		}
		if phone == "" {
			return invalid(c, FieldError{"to", "required: the case has no phone number on file"})
		}
	}
	now := a.now()
	if err := a.Gate.Check(ctx, Attempt{CaseNumber: req.CaseNumber, Phone: phone, At: now}); err != nil {
		return reply(c, err)
	}
	j, err := a.Scheduler.Enqueue(ctx, Job{CaseNumber: req.CaseNumber, Phone: phone, Target: target}, now)
	if err != nil {
		return reply(c, err)
	}
	if a.Wake != nil {
		a.Wake()
	}
	return c.JSON(http.StatusAccepted, map[string]any{"attempt_id": j.ID, "status": j.Status})
}

func (a *API) createCampaign(c echo.Context) error {
	ct, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	var spec CampaignSpec
	switch ct {
	case "text/csv":
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request body too large")
			}
			return invalid(c, FieldError{"body", "unreadable"})
		}
		if spec.CaseNumbers, err = ParseCaseCSV(bytes.NewReader(body)); err != nil {
			return reply(c, err)
		}
		q := c.QueryParams()
		spec.Name, spec.Window = q.Get("name"), q.Get("window")
		if s := q.Get("concurrency"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return invalid(c, FieldError{"concurrency", "must be a whole number"})
			}
			spec.Concurrency = n
		}
		if s := q.Get("cps"); s != "" {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return invalid(c, FieldError{"cps", "must be a number, e.g. 0.5"})
			}
			spec.CPS = f
		}
		if s := q.Get("start_at"); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return invalid(c, FieldError{"start_at", "must be RFC 3339, e.g. 2026-03-02T09:00:00+01:00"})
			}
			spec.StartAt = t
		}
	default:
		if err := decodeJSON(c, &spec); err != nil {
			if ct != echo.MIMEApplicationJSON {
				return invalid(c, FieldError{"body", "Content-Type must be application/json or text/csv"})
			}
			return reply(c, err)
		}
	}
	camp, err := a.Campaigns.Create(c.Request().Context(), spec)
	if err != nil {
		return reply(c, err)
	}
	if a.Wake != nil {
		a.Wake()
	}
	return c.JSON(http.StatusCreated, camp)
}

func (a *API) getCampaign(c echo.Context) error {
	camp, err := a.Campaigns.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return reply(c, err)
	}
	return c.JSON(http.StatusOK, camp)
}

func (a *API) pauseCampaign(c echo.Context) error {
	camp, err := a.Campaigns.Pause(c.Request().Context(), c.Param("id"))
	if err != nil {
		return reply(c, err)
	}
	return c.JSON(http.StatusOK, camp)
}

func (a *API) resumeCampaign(c echo.Context) error {
	camp, err := a.Campaigns.Resume(c.Request().Context(), c.Param("id"))
	if err != nil {
		return reply(c, err)
	}
	if a.Wake != nil {
		a.Wake()
	}
	return c.JSON(http.StatusOK, camp)
}

// parseWhen reads a ledger bound: RFC 3339, or YYYY-MM-DD (midnight in
// the API's location).
func (a *API) parseWhen(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	loc := a.Location
	if loc == nil {
		loc = time.UTC
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, true
	}
	return time.Time{}, false
}

func (a *API) ledgerCSV(c echo.Context) error {
	var fe []FieldError
	from, ok := a.parseWhen(c.QueryParam("from"))
	if !ok {
		fe = append(fe, FieldError{"from", "must be RFC 3339 or YYYY-MM-DD"})
	}
	to, ok := a.parseWhen(c.QueryParam("to"))
	if !ok {
		fe = append(fe, FieldError{"to", "must be RFC 3339 or YYYY-MM-DD"})
	}
	if len(fe) == 0 && !from.IsZero() && !to.IsZero() && !to.After(from) {
		fe = append(fe, FieldError{"to", "must be after from"})
	}
	if len(fe) > 0 {
		return invalid(c, fe...)
	}
	// Buffered so a store failure is still a clean 503, not a cut CSV.
	var buf bytes.Buffer
	if err := a.Ledger.WriteCSV(c.Request().Context(), &buf, from, to); err != nil {
		return reply(c, err)
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="contact-ledger.csv"`)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

func dncPhone(c echo.Context) (string, bool) {
	p, err := url.PathUnescape(c.Param("phone"))
	if err != nil || !ValidPhone(p) {
		return "", false
	}
	return p, true
}

func (a *API) addDNC(c echo.Context) error {
	p, ok := dncPhone(c)
	if !ok {
		return invalid(c, FieldError{"phone", "must be an E.164 number (+48…)"})
	}
	if err := a.Gate.MarkDNC(c.Request().Context(), p); err != nil {
		return reply(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) removeDNC(c echo.Context) error {
	p, ok := dncPhone(c)
	if !ok {
		return invalid(c, FieldError{"phone", "must be an E.164 number (+48…)"})
	}
	found, err := a.Gate.UnmarkDNC(c.Request().Context(), p)
	if err != nil {
		return reply(c, err)
	}
	if !found {
		return echo.NewHTTPError(http.StatusNotFound, "not on the do-not-call list")
	}
	return c.NoContent(http.StatusNoContent)
}
