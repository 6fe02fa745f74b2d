package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"hotline/assistant/session"
	"hotline/dialogs"
)

// CallStore is what the calls API reads (assistant/session.Store).
type CallStore interface {
	LoadFull(ctx context.Context, id string) (*session.Session, error)
	ListWhere(ctx context.Context, limit int, keep func(*session.Session) bool) ([]*session.Session, error)
}

var _ CallStore = (*session.Store)(nil)

// CallNote is a consultant's note about a call, written in the console
// after talking to the caller.
type CallNote struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"` // the consultant's user name
	Text string    `json:"text"`
}

// NoteReader reads the consultants' notes about a call, oldest first
// (none: empty, no error). The consultants' service keeps them in its
// own call record; cmd adapts it.
type NoteReader interface {
	CallNotes(ctx context.Context, id string) ([]CallNote, error)
}

// CallView is a call as the API shows it. The case number is masked
// unless the caller verified for it: an unverified caller's digits are a
// claim, not an identity.
type CallView struct {
	ID           string               `json:"id"`
	Direction    string               `json:"direction"`
	LegType      string               `json:"leg_type"`
	State        string               `json:"state"` // live | ended
	CaseNumber   string               `json:"case_number,omitempty"`
	Verification string               `json:"verification"` // none | case_entered | verified
	Phase        string               `json:"phase"`
	Disclosures  []dialogs.Disclosure `json:"disclosures"`
	Transcript   []session.Line       `json:"transcript"`
	Termination  string               `json:"termination,omitempty"`
	StartedAt    time.Time            `json:"started_at"`
	EndedAt      *time.Time           `json:"ended_at,omitempty"`
	// Notes are the consultants' notes: GET /calls/{id} only (the list
	// leaves them out), omitted when there are none.
	Notes []CallNote `json:"notes,omitempty"`
}

// NewCallView builds the API view of a session.
func NewCallView(s *session.Session) CallView {
	v := CallView{
		ID: s.ID, Direction: s.Direction, LegType: s.Leg, State: "live",
		Phase: string(s.Dialog.Phase), Verification: "none",
		Disclosures: s.Disclosures, Transcript: s.Transcript,
		Termination: s.Termination, StartedAt: s.StartedAt,
	}
	if v.Disclosures == nil {
		v.Disclosures = []dialogs.Disclosure{}
	}
	if v.Transcript == nil {
		v.Transcript = []session.Line{}
	}
	if s.Ended() {
		v.State = "ended"
		t := s.EndedAt
		v.EndedAt = &t
	}
	switch {
	case s.Dialog.Verified:
		v.Verification, v.CaseNumber = "verified", s.Dialog.CaseNumber
	case s.Dialog.PendingCase != "":
		v.Verification, v.CaseNumber = "case_entered", MaskDigits(s.Dialog.PendingCase)
	}
	return v
}

// MaskDigits keeps the last three characters of an identifier.
func MaskDigits(s string) string {
	if len(s) <= 3 {
		return strings.Repeat("*", len(s))
	}
	return strings.Repeat("*", len(s)-3) + s[len(s)-3:]
}

// MountCalls adds GET /api/v1/calls and GET /api/v1/calls/:id behind the
// bearer tokens. With no tokens configured the API refuses everyone.
func (s *Server) MountCalls(store CallStore, tokens []string) {
	s.MountCallsWithNotes(store, nil, tokens)
}

// MountCallsWithNotes is MountCalls whose GET /calls/:id also shows the
// consultants' notes from notes (nil: none).
func (s *Server) MountCallsWithNotes(store CallStore, notes NoteReader, tokens []string) {
	g := s.e.Group("/api/v1", BearerAuth(tokens))
	g.GET("/calls", func(c echo.Context) error { return listCalls(c, store) })
	g.GET("/calls/:id", func(c echo.Context) error { return s.getCall(c, store, notes) })
}

// BearerAuth accepts requests whose Authorization is "Bearer <token>" for
// one of tokens (compared in constant time).
func BearerAuth(tokens []string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			got, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
			if ok && got != "" {
				for _, t := range tokens {
					if subtle.ConstantTimeCompare([]byte(got), []byte(t)) == 1 {
						return next(c)
					}
				}
			}
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="hotline"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "missing or invalid bearer token")
		}
	}
}

func listCalls(c echo.Context, store CallStore) error {
	state := c.QueryParam("state")
	var keep func(*session.Session) bool
	switch state {
	case "":
	case "live":
		keep = func(s *session.Session) bool { return !s.Ended() }
	case "ended":
		keep = func(s *session.Session) bool { return s.Ended() }
	default:
		return echo.NewHTTPError(http.StatusBadRequest, `state must be "live" or "ended"`)
	}
	limit := 100
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return echo.NewHTTPError(http.StatusBadRequest, "limit must be 1..1000")
		}
		limit = n
	}
	list, err := store.ListWhere(c.Request().Context(), limit, keep)
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "call store unavailable").SetInternal(err)
	}
	out := make([]CallView, 0, len(list))
	for _, s := range list {
		out = append(out, NewCallView(s))
	}
	return c.JSON(http.StatusOK, map[string]any{"calls": out})
}

func (s *Server) getCall(c echo.Context, store CallStore, notes NoteReader) error {
	ctx := c.Request().Context()
	call, err := store.LoadFull(ctx, c.Param("id"))
	if errors.Is(err, session.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "no such call")
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "call store unavailable").SetInternal(err)
	}
	v := NewCallView(call)
	if notes != nil {
		// The call itself is the answer; notes that cannot be read now
		// are left out rather than failing it.
		if v.Notes, err = notes.CallNotes(ctx, call.ID); err != nil {
			s.log.Warn("calls API: notes unavailable", "call_id", call.ID, "err", err)
			v.Notes = nil
		}
	}
	return c.JSON(http.StatusOK, v)
}
