package web

import (
	"context"
	"errors"
	"strings"
	"time"

	"hotline/assistant/callbacks"
	"hotline/dialogs"
)

// Field names, the same in the form and in the JSON API.
const (
	FieldPhone      = "phone"
	FieldCaseNumber = "case_number"
	FieldAt         = "at"
	FieldConsent    = "consent"
)

// Messages shown next to the fields.
const (
	MsgCaseNumber = "Numer akt sprawy to od %d do %d cyfr. To pole można zostawić puste."
	MsgAtEmpty    = "Proszę wybrać dzień i godzinę rozmowy."
	MsgAtBad      = "Nieprawidłowy termin. Proszę wybrać termin z listy."
	MsgAtPast     = "Ten termin już minął. Proszę wybrać inny."
	MsgAtOutside  = "Ten termin jest niedostępny: dzwonimy w godzinach pracy konsultantów, najwcześniej za godzinę i najpóźniej za dwa tygodnie. Proszę wybrać termin z listy."
	MsgAtFull     = "Ten termin został już zajęty. Proszę wybrać inny."
	MsgConsent    = "Aby wysłać prośbę, proszę zaznaczyć zgodę."
)

// Scheduler stores callback requests (assistant/callbacks.Service).
type Scheduler interface {
	Slots(ctx context.Context, now time.Time, n int) ([]time.Time, error)
	Schedule(ctx context.Context, r callbacks.Request) (callbacks.Callback, error)
	SlotLength() time.Duration
	Location() *time.Location
}

var _ Scheduler = (*callbacks.Service)(nil)

// Errors Submit returns besides field problems.
var (
	// ErrFields: the input has problems; see FieldErrors.
	ErrFields = errors.New("web: invalid callback request")
	// ErrSlotFull: the slot was valid but is full (HTTP 409).
	ErrSlotFull = errors.New("web: slot full")
)

// FieldErrors maps a field name to its message.
type FieldErrors map[string]string

// Input is a callback request as typed or sent.
type Input struct {
	Phone      string `json:"phone"`
	CaseNumber string `json:"case_number,omitempty"`
	// At is the wanted slot start, RFC 3339 ("2026-12-01T15:00:00+01:00").
	At string `json:"at"`
}

// Rules check inputs the same way for the form and the API.
type Rules struct {
	// CaseNumberMin and CaseNumberMax bound an optional case number in
	// digits (default dialogs' 6 and 12).
	CaseNumberMin, CaseNumberMax int
}

func (r Rules) withDefaults() Rules {
	if r.CaseNumberMin <= 0 {
		r.CaseNumberMin = dialogs.DefaultCaseNumberMin
	}
	if r.CaseNumberMax < r.CaseNumberMin {
		r.CaseNumberMax = max(dialogs.DefaultCaseNumberMax, r.CaseNumberMin)
	}
	return r
}

// Check validates in and returns the request to store, or the problems
// field by field. Whether the slot is inside the hours and free is the
// Scheduler's to say (see Submit).
func (r Rules) Check(in Input, now time.Time) (callbacks.Request, FieldErrors) {
	r = r.withDefaults()
	fe := FieldErrors{}
	req := callbacks.Request{}
	phone, err := NormalizePhone(in.Phone)
	if pe := (*FieldError)(nil); errors.As(err, &pe) {
		fe[FieldPhone] = pe.Message
	}
	req.Phone = phone
	if cn := strings.Join(strings.Fields(in.CaseNumber), ""); cn != "" {
		if len(cn) < r.CaseNumberMin || len(cn) > r.CaseNumberMax || !allDigits(cn) {
			fe[FieldCaseNumber] = sprintf(MsgCaseNumber, r.CaseNumberMin, r.CaseNumberMax)
		}
		req.CaseNumber = cn
	}
	at := strings.TrimSpace(in.At)
	switch t, err := time.Parse(time.RFC3339, at); {
	case at == "":
		fe[FieldAt] = MsgAtEmpty
	case err != nil || len(at) > 40:
		fe[FieldAt] = MsgAtBad
	case !t.After(now):
		fe[FieldAt] = MsgAtPast
	default:
		req.At = t
	}
	if len(fe) > 0 {
		return callbacks.Request{}, fe
	}
	return req, nil
}

// Submit checks in and stores it with source. It returns the stored
// callback; ErrFields with the problems; ErrSlotFull (with the message
// for the slot field); or a storage error.
func Submit(ctx context.Context, s Scheduler, rules Rules, in Input, source string, now time.Time) (callbacks.Callback, FieldErrors, error) {
	req, fe := rules.Check(in, now)
	if fe != nil {
		return callbacks.Callback{}, fe, ErrFields
	}
	req.Source = source
	cb, err := s.Schedule(ctx, req)
	switch {
	case err == nil:
		return cb, nil, nil
	case errors.Is(err, callbacks.ErrSlotFull):
		return callbacks.Callback{}, FieldErrors{FieldAt: MsgAtFull}, ErrSlotFull
	case errors.Is(err, dialogs.ErrSlotUnavailable):
		return callbacks.Callback{}, FieldErrors{FieldAt: MsgAtOutside}, ErrFields
	case errors.Is(err, callbacks.ErrInvalid):
		// Check let through something the store refuses: say it generally.
		return callbacks.Callback{}, FieldErrors{FieldPhone: MsgPhoneInvalid}, ErrFields
	}
	return callbacks.Callback{}, nil, err
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
