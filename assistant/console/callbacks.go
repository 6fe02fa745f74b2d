package console

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"hotline/assistant/outbound"
)

// CallbackDesk is what the console needs of the callbacks handed to the
// consultants (outbound.callbacks_to: consultants; outbound.Handoff).
type CallbackDesk interface {
	// List returns the callbacks waiting for a consultant or taken by
	// one; phones are masked except for those user took.
	List(ctx context.Context, user string) ([]outbound.Task, error)
	// Take gives a callback to user if the compliance gate allows a call
	// now, with its full phone number.
	Take(ctx context.Context, id, user string) (outbound.Task, error)
	// Report records the outcome of user's call.
	Report(ctx context.Context, id, user string, o outbound.Outcome) error
	// Release gives a callback user took back, untouched.
	Release(ctx context.Context, id, user string) error
}

var _ CallbackDesk = (*outbound.Handoff)(nil)

// mountCallbacks adds the consultants' callback routes (only with a desk).
func (c *Console) mountCallbacks(g *echo.Group, api echo.MiddlewareFunc) {
	if c.opt.Callbacks == nil {
		return
	}
	g.GET("/api/callbacks", c.listCallbacks, api)
	g.POST("/api/callbacks/:id/take", c.takeCallback, api, requireCSRF)
	g.POST("/api/callbacks/:id/report", c.reportCallback, api, requireCSRF)
	g.POST("/api/callbacks/:id/release", c.releaseCallback, api, requireCSRF)
}

// conflict is a 409 body: the usual "error", and what stood in the way —
// "reason" (taken, not_yours) or the gate's "rule" and when it may pass.
type conflict struct {
	Error   string     `json:"error"`
	Reason  string     `json:"reason,omitempty"`
	Rule    string     `json:"rule,omitempty"`
	RetryAt *time.Time `json:"retry_at,omitempty"`
}

// callbackError maps the desk's errors to HTTP answers.
func callbackError(e echo.Context, err error) error {
	var re *outbound.RefusedError
	switch {
	case errors.As(err, &re):
		body := conflict{Error: "the compliance gate refuses a call now: " + re.Detail, Rule: re.Rule}
		if !re.RetryAt.IsZero() {
			body.RetryAt = &re.RetryAt
		}
		return e.JSON(http.StatusConflict, body)
	case errors.Is(err, outbound.ErrTaken):
		return e.JSON(http.StatusConflict, conflict{Error: "another consultant took the callback", Reason: "taken"})
	case errors.Is(err, outbound.ErrNotTaker):
		return e.JSON(http.StatusConflict, conflict{Error: "the callback is not taken by you", Reason: "not_yours"})
	case errors.Is(err, outbound.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "no such callback waiting for a consultant")
	case errors.Is(err, outbound.ErrInvalid):
		// Take: the callback has no valid phone and was closed.
		return e.JSON(http.StatusConflict, conflict{Error: "the callback has no valid phone number", Rule: "invalid"})
	}
	return echo.NewHTTPError(http.StatusServiceUnavailable, "callbacks unavailable").SetInternal(err)
}

func (c *Console) listCallbacks(e echo.Context) error {
	list, err := c.opt.Callbacks.List(e.Request().Context(), sess(e).user.Name)
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "callbacks unavailable").SetInternal(err)
	}
	return e.JSON(http.StatusOK, map[string]any{"callbacks": list})
}

func (c *Console) takeCallback(e echo.Context) error {
	user := sess(e).user.Name
	t, err := c.opt.Callbacks.Take(e.Request().Context(), e.Param("id"), user)
	if err != nil {
		return callbackError(e, err)
	}
	c.log.Info("console: callback taken", "callback", t.ID, "user", user)
	return e.JSON(http.StatusOK, t)
}

func (c *Console) reportCallback(e echo.Context) error {
	var body struct {
		Outcome string `json:"outcome"`
	}
	if err := e.Bind(&body); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "want {\"outcome\": …}")
	}
	o, err := outbound.ParseConsultantOutcome(body.Outcome)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "outcome must be right-party, wrong-party, no-answer or busy")
	}
	err = c.opt.Callbacks.Report(e.Request().Context(), e.Param("id"), sess(e).user.Name, o)
	if errors.Is(err, outbound.ErrInvalid) {
		return echo.NewHTTPError(http.StatusBadRequest, "outcome must be right-party, wrong-party, no-answer or busy")
	}
	if err != nil {
		return callbackError(e, err)
	}
	return e.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (c *Console) releaseCallback(e echo.Context) error {
	if err := c.opt.Callbacks.Release(e.Request().Context(), e.Param("id"), sess(e).user.Name); err != nil {
		return callbackError(e, err)
	}
	return e.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
