package dialogs

import "strings"

// ParseKeys turns keypad keys into an intent for the question exp. It is
// deterministic and total: keys that fit nothing give IntentUnknown, and
// no keys at all give the zero Intent (nothing was entered, like a
// timeout). Value slots are only shaped here; the flow checks them
// (lengths, calendar dates, option ranges).
//
//   - ExpectCaseNumber, ExpectBirthDate: digits, optionally ended by the
//     Finish key → IntentDigits. A "*" anywhere means "start over" and a
//     lone Finish key is empty: both are IntentUnknown, so the question is
//     asked again.
//   - ExpectMenu: one key, 1 debt, 2 payments, 3 callback, 4 complaints,
//     0 consultant, 9 repeat.
//   - ExpectChoice, ExpectSlot: one key 1..Options → IntentChoice; 9
//     repeats; in ExpectSlot 0 declines (IntentNo, back to the menu).
func ParseKeys(exp Expect, keys string) Intent {
	if keys == "" {
		return Intent{}
	}
	if strings.Trim(keys, "0123456789*#") != "" {
		return keyIntent(IntentUnknown)
	}
	switch exp.Kind {
	case ExpectCaseNumber, ExpectBirthDate:
		digits := keys
		if exp.Finish != "" {
			digits = strings.TrimSuffix(keys, exp.Finish)
		}
		if digits == "" || !isDigits(digits) {
			return keyIntent(IntentUnknown)
		}
		return Intent{Kind: IntentDigits, Digits: digits, Source: sourceKeys}
	case ExpectMenu:
		k, ok := oneKey(exp, keys)
		if !ok {
			return keyIntent(IntentUnknown)
		}
		return keyIntent(menuIntent(k))
	case ExpectChoice, ExpectSlot:
		k, ok := oneKey(exp, keys)
		switch {
		case !ok:
			return keyIntent(IntentUnknown)
		case k >= '1' && int(k-'0') <= exp.Options:
			return Intent{Kind: IntentChoice, Choice: int(k - '0'), Source: sourceKeys}
		case k == '9':
			return keyIntent(IntentRepeat)
		case k == '0' && exp.Kind == ExpectSlot:
			return keyIntent(IntentNo)
		}
	}
	return keyIntent(IntentUnknown)
}

// sourceKeys marks intents parsed from the keypad.
const sourceKeys = "keys"

func keyIntent(k IntentKind) Intent { return Intent{Kind: k, Source: sourceKeys} }

// oneKey returns the single key of a one-key answer, allowing a trailing
// Finish key (callers used to ending entries with # add one).
func oneKey(exp Expect, keys string) (byte, bool) {
	if exp.Finish != "" && len(keys) > 1 {
		keys = strings.TrimSuffix(keys, exp.Finish)
	}
	if len(keys) != 1 || keys[0] == '*' || keys[0] == '#' {
		return 0, false
	}
	return keys[0], true
}

// menuIntent maps a main-menu key to its intent.
func menuIntent(key byte) IntentKind {
	switch key {
	case '1':
		return IntentDebt
	case '2':
		return IntentPayments
	case '3':
		return IntentCallback
	case '4':
		return IntentComplaints
	case '0':
		return IntentConsultant
	case '9':
		return IntentRepeat
	}
	return IntentUnknown
}

// isDigits reports whether s is non-empty and only ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
