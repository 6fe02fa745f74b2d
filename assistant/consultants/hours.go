// Package consultants decides whether a caller can be handed to a human.
// For now that is the consultants' working hours; presence and the waiting
// queue (the console issue) build on this.
package consultants

import (
	"context"
	"time"

	"hotline/assistant/calendar"
	"hotline/dialogs"
)

// Hours offers transfers while the consultants' hours are open (public
// holidays closed).
type Hours struct {
	hours calendar.Hours
}

var _ dialogs.Consultants = (*Hours)(nil)

// NewHours returns a Consultants that is available during h.
func NewHours(h calendar.Hours) *Hours { return &Hours{hours: h} }

// Available reports whether a consultant can take a transfer at now.
func (h *Hours) Available(_ context.Context, now time.Time) bool { return h.hours.Open(now) }
