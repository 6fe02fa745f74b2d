// Package redact is the last line of defence for personal data in logs:
// a slog.Handler that wraps the root handler and masks case numbers,
// phone numbers, names, dates of birth, amounts and bank accounts,
// whichever package logged them.
//
// Two rules apply to every record:
//
//   - by key: attributes whose key names personal data (case, case_number,
//     phone, from, to, caller, name, debtor, birth, dob, amount, balance,
//     account …) lose their value — identifiers keep their last three
//     characters so calls can still be told apart ("***678"), the rest
//     become "***";
//   - by pattern: the message and every other string value (errors and
//     Stringers included) have digit runs of six or more, E.164 numbers,
//     dates and IBAN-like groups masked.
//
// Attributes named id (call_id, sip_call_id, id …) are exempt from the
// patterns: they are random identifiers, and masking them would break the
// correlation of a call's log lines.
//
// The package is a leaf (standard library only) so cmd/hotline can wrap the
// root logger and telephony's logs are covered without telephony importing
// assistant.
package redact

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

// Mask is what replaces a value that keeps nothing.
const Mask = "***"

// keep is how many trailing characters of an identifier survive.
const keep = 3

// Handler masks personal data before the wrapped handler formats it.
type Handler struct {
	inner slog.Handler
}

var _ slog.Handler = (*Handler)(nil)

// New wraps h.
func New(h slog.Handler) *Handler { return &Handler{inner: h} }

// Enabled defers to the wrapped handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

// Handle masks the message and attributes of r and passes a copy on.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Text(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(Attr(a))
		return true
	})
	return h.inner.Handle(ctx, out)
}

// WithAttrs masks as once, when the child logger is made.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = Attr(a)
	}
	return &Handler{inner: h.inner.WithAttrs(masked)}
}

// WithGroup defers to the wrapped handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{inner: h.inner.WithGroup(name)}
}

// class is how an attribute's key says its value must be treated.
type class int

const (
	plain   class = iota // patterns only
	ident                // random id: left alone
	partial              // personal identifier: last three characters kept
	hidden               // personal data: "***"
)

// keyWords maps the words of a key ("case_number" → case, number) to how
// the value is masked. The first word that matches decides.
var keyWords = map[string]class{
	"id": ident,
	// identifiers: the tail tells calls apart in logs.
	"case": partial, "casenumber": partial, "phone": partial, "msisdn": partial,
	"from": partial, "to": partial, "caller": partial, "callee": partial,
	"account": partial, "iban": partial, "nrb": partial,
	// data with no operational use in a log line.
	"name": hidden, "debtor": hidden, "birth": hidden, "dob": hidden, "birthdate": hidden,
	"amount": hidden, "balance": hidden, "principal": hidden, "interest": hidden,
	"fee": hidden, "fees": hidden, "transcript": hidden, "said": hidden, "heard": hidden,
}

func classify(key string) class {
	words := strings.FieldsFunc(strings.ToLower(key), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	// "sip_call_id": the last word says it is an id; "case_number": the
	// first word says it is a case.
	if n := len(words); n > 0 && keyWords[words[n-1]] == ident {
		return ident
	}
	for _, w := range words {
		if c, ok := keyWords[w]; ok && c != ident {
			return c
		}
	}
	return plain
}

// Attr returns a with its value masked according to its key and content.
// Groups are masked member by member.
func Attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		members := v.Group()
		out := make([]slog.Attr, len(members))
		for i, m := range members {
			out[i] = Attr(m)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	}
	switch classify(a.Key) {
	case ident:
		return slog.Attr{Key: a.Key, Value: v}
	case partial:
		return slog.String(a.Key, tail(valueString(v)))
	case hidden:
		return slog.String(a.Key, Mask)
	}
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Text(v.String()))
	case slog.KindAny:
		// errors, Stringers and anything else that prints: its text may
		// carry what the caller said or a case's data.
		return slog.String(a.Key, Text(valueString(v)))
	}
	// Numbers, durations, times and booleans under a plain key.
	return slog.Attr{Key: a.Key, Value: v}
}

func valueString(v slog.Value) string {
	if v.Kind() == slog.KindAny {
		switch x := v.Any().(type) {
		case error:
			return x.Error()
		case fmt.Stringer:
			return x.String()
		case []byte:
			return string(x)
		default:
			return fmt.Sprint(x)
		}
	}
	return v.String()
}

// tail keeps the last three characters of an identifier longer than six;
// shorter ones keep nothing.
func tail(s string) string {
	r := []rune(s)
	if len(r) <= 2*keep {
		return Mask
	}
	return Mask + string(r[len(r)-keep:])
}

// patterns find personal data in free text. Order matters: the wider
// shapes (IBAN, E.164) are masked before the digit runs inside them.
var patterns = []*regexp.Regexp{
	// IBAN / NRB: "PL61 1090 1014 …", "12 1090 1014 0000 0712 1981 2874".
	regexp.MustCompile(`\b(?:[A-Z]{2})?\d{2}(?:[ -]?[0-9A-Z]{4}){3,7}(?:[ -]?[0-9A-Z]{1,3})?\b`),
	// E.164 and spaced national numbers: "+48600100200", "+48 600 100 200".
	regexp.MustCompile(`\+\d(?:[ -]?\d){6,14}`),
	// Dates: 1980-01-02, 02.01.1980, 02/01/1980, 02-01-1980.
	regexp.MustCompile(`\b\d{4}-\d{1,2}-\d{1,2}\b`),
	regexp.MustCompile(`\b\d{1,2}[./-]\d{1,2}[./-]\d{4}\b`),
	// Amounts with a currency: "1499.78 zł", "1 499,78 PLN".
	regexp.MustCompile(`\d[\d ]*[.,]\d{2}\s?(?i:zł|pln|złotych)`),
	// Any run of six or more digits: case numbers, 02011980, phone
	// numbers, accounts, grosze.
	regexp.MustCompile(`\d{6,}`),
}

// Text masks personal data found by pattern in free text; digit runs keep
// their last three digits, other shapes keep nothing.
func Text(s string) string {
	if !hasDigit(s) {
		return s // the usual log message: no work
	}
	for i, re := range patterns {
		last := i == len(patterns)-1
		s = re.ReplaceAllStringFunc(s, func(m string) string {
			if last {
				return tail(m)
			}
			return Mask
		})
	}
	return s
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}
