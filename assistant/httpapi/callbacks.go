package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"hotline/assistant/callbacks"
	"hotline/assistant/web"
)

// CallbackStore is what the callbacks API needs (assistant/callbacks.Service).
type CallbackStore interface {
	web.Scheduler
	ListAll(ctx context.Context, from, to time.Time) ([]callbacks.Callback, error)
}

var _ CallbackStore = (*callbacks.Service)(nil)

// CallbacksOptions configure the callbacks API.
type CallbacksOptions struct {
	Store  CallbackStore
	Tokens []string
	Rules  web.Rules
	// Now is the clock requests are validated against (time.Now when nil).
	Now func() time.Time
}

// maxCallbackBody bounds a POST body; a real one is under 200 bytes.
const maxCallbackBody = "16K"

// callbackStatuses are the values ?status= accepts.
var callbackStatuses = []string{
	callbacks.StatusScheduled, callbacks.StatusClaimed, callbacks.StatusDialling, callbacks.StatusRetry,
	callbacks.StatusDone, callbacks.StatusFailed, callbacks.StatusConsultant,
}

// fieldErrorBody is the 400/409 answer: the usual "error" and the
// problems field by field, in the shape the outbound API uses too, with
// the same Polish messages as the web form (a website may show them).
type fieldErrorBody struct {
	Error  string       `json:"error"`
	Fields []fieldError `json:"fields"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func newFieldErrorBody(msg string, fe web.FieldErrors) fieldErrorBody {
	b := fieldErrorBody{Error: msg, Fields: []fieldError{}}
	for _, k := range slices.Sorted(maps.Keys(fe)) {
		b.Fields = append(b.Fields, fieldError{Field: k, Message: fe[k]})
	}
	return b
}

// MountCallbacks adds POST and GET /api/v1/callbacks behind the bearer
// tokens: the company's website backend schedules callbacks with the
// same validation as the public form, and operators list them.
func (s *Server) MountCallbacks(opt CallbacksOptions) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	g := s.e.Group("/api/v1", BearerAuth(opt.Tokens))
	g.POST("/callbacks", func(c echo.Context) error { return postCallback(c, opt) }, middleware.BodyLimit(maxCallbackBody))
	g.GET("/callbacks", func(c echo.Context) error { return listCallbacks(c, opt) })
}

func postCallback(c echo.Context, opt CallbacksOptions) error {
	var in web.Input
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var tooBig *echo.HTTPError
		if errors.As(err, &tooBig) {
			return err // the body limit's 413
		}
		return echo.NewHTTPError(http.StatusBadRequest, "body must be one JSON object with phone, case_number and at")
	}
	if dec.More() {
		return echo.NewHTTPError(http.StatusBadRequest, "body must be one JSON object with phone, case_number and at")
	}
	cb, fe, err := web.Submit(c.Request().Context(), opt.Store, opt.Rules, in, callbacks.SourceAPI, opt.Now())
	switch {
	case errors.Is(err, web.ErrFields):
		return c.JSON(http.StatusBadRequest, newFieldErrorBody("invalid request", fe))
	case errors.Is(err, web.ErrSlotFull):
		return c.JSON(http.StatusConflict, newFieldErrorBody("slot full", fe))
	case err != nil:
		return echo.NewHTTPError(http.StatusServiceUnavailable, "callback store unavailable").SetInternal(err)
	}
	return c.JSON(http.StatusCreated, cb)
}

func listCallbacks(c echo.Context, opt CallbacksOptions) error {
	status := c.QueryParam("status")
	if status != "" && !slices.Contains(callbackStatuses, status) {
		return echo.NewHTTPError(http.StatusBadRequest, "unknown status")
	}
	limit := 100
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return echo.NewHTTPError(http.StatusBadRequest, "limit must be 1..1000")
		}
		limit = n
	}
	// Every booking still on record (dialled ones too), soonest first.
	list, err := opt.Store.ListAll(c.Request().Context(), time.Unix(0, 0), opt.Now().AddDate(1, 0, 0))
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "callback store unavailable").SetInternal(err)
	}
	out := make([]callbacks.Callback, 0, min(len(list), limit))
	for _, cb := range list {
		if len(out) == limit {
			break
		}
		// A booking replaced by a later one from the same call is history:
		// listed only when asked for.
		if cb.Status == status || (status == "" && cb.Status != callbacks.StatusReplaced) {
			out = append(out, cb)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"callbacks": out})
}
