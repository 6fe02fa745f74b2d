// Package consultants hands callers to humans: working hours (Hours),
// and the Service shared by every instance through Redis: consultants'
// presence with a heartbeat, the waiting queue in fair (FIFO) order with
// an atomic claim, offers to one consultant at a time with the screen-pop,
// notes stored with the call, and events published so every instance's
// console sees them.
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
