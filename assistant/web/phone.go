package web

import "strings"

// Messages about phone numbers, shown next to the field.
const (
	MsgPhoneEmpty   = "Proszę podać numer telefonu."
	MsgPhoneChars   = "Numer telefonu może zawierać tylko cyfry, spacje, myślniki, nawiasy i znak plus na początku."
	MsgPhoneLength  = "Polski numer telefonu ma dziewięć cyfr, na przykład 601 234 567 albo +48 601 234 567."
	MsgPhoneInvalid = "To nie jest prawidłowy numer telefonu."
)

// FieldError is a problem with one input field. Message is Polish, for
// the person who filled in the form.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func phoneError(msg string) error { return &FieldError{Field: FieldPhone, Message: msg} }

// maxPhoneInput bounds what is even looked at.
const maxPhoneInput = 40

// NormalizePhone turns a phone number as people type it in Poland into
// E.164: "601 234 567", "601-234-567", "(22) 123 45 67", "+48 601 234
// 567", "0048601234567" and "48601234567" all become "+48…" with nine
// national digits. Foreign numbers are accepted with "+" or "00" and 8–15
// digits in all. Errors are *FieldError.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", phoneError(MsgPhoneEmpty)
	}
	if len(s) > maxPhoneInput {
		return "", phoneError(MsgPhoneLength)
	}
	var b strings.Builder
	plus := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			plus = true
		case r == ' ', r == '-', r == '.', r == '(', r == ')', r == '/', r == '\u00a0':
		default:
			return "", phoneError(MsgPhoneChars)
		}
	}
	d := b.String()
	if !plus && strings.HasPrefix(d, "00") {
		plus, d = true, d[2:]
	}
	switch {
	case plus && strings.HasPrefix(d, "48"):
		d = d[2:]
	case plus:
		// A foreign number: E.164 allows up to 15 digits with the country code.
		if len(d) < 8 || len(d) > 15 || d[0] == '0' {
			return "", phoneError(MsgPhoneInvalid)
		}
		return "+" + d, nil
	case len(d) == 11 && strings.HasPrefix(d, "48"):
		d = d[2:]
	case len(d) == 10 && d[0] == '0':
		// An old habit: a trunk 0 before the area code.
		d = d[1:]
	}
	if len(d) != 9 {
		return "", phoneError(MsgPhoneLength)
	}
	if d[0] == '0' {
		// Polish national numbers never start with 0.
		return "", phoneError(MsgPhoneInvalid)
	}
	return "+48" + d, nil
}

// FormatPhone shows an E.164 number for reading: Polish numbers in groups
// of three ("+48 601 234 567"), others as they are.
func FormatPhone(e164 string) string {
	if d, ok := strings.CutPrefix(e164, "+48"); ok && len(d) == 9 {
		return "+48 " + d[0:3] + " " + d[3:6] + " " + d[6:9]
	}
	return e164
}
