package dialogs

import (
	"fmt"
	"strconv"
	"time"
)

// failedOptions are the choices after a failed verification: 1 consultant, 2 goodbye.
const failedOptions = 2

// earliestBirthYear bounds plausible dates of birth from below.
const earliestBirthYear = 1900

// start greets the caller, plays the mandatory notices in full and asks
// for the case file number.
func (t *turn) start() {
	t.note(pGreeting)
	t.notice(pNoticeAI)
	t.notice(pNoticeRecording)
	t.ask(t.f.worded(pAskCaseNumber))
	t.goTo(PhaseCaseNumber)
}

// caseNumber takes the case file number. Nothing about the number is said
// back: whether it exists is learned only together with the date of birth.
func (t *turn) caseNumber(it Intent) error {
	if n := len(it.Digits); it.Kind == IntentDigits && isDigits(it.Digits) &&
		n >= t.f.cfg.CaseNumberMin && n <= t.f.cfg.CaseNumberMax {
		t.st.PendingCase = it.Digits
		t.ask(t.f.worded(pAskBirthDate))
		t.goTo(PhaseBirthDate)
		return nil
	}
	if ok, err := t.unverified(it); ok {
		return err
	}
	return t.retry(cause(it, pInvalidCaseNumber), t.again, t.giveUpVerifying)
}

// birthDate takes the date of birth and verifies it with the case number.
func (t *turn) birthDate(it Intent) error {
	if date, ok := birthDateDigits(it, t.at); ok {
		return t.verify(date)
	}
	if ok, err := t.unverified(it); ok {
		return err
	}
	return t.retry(cause(it, pInvalidBirthDate), t.again, t.giveUpVerifying)
}

// unverified answers the requests that make sense before verification,
// none of which tells anything about a case. It reports whether it was one.
func (t *turn) unverified(it Intent) (bool, error) {
	switch it.Kind {
	case IntentRepeat:
		return true, t.repeat()
	case IntentConsultant:
		return true, t.consultant(ReasonCallerRequest, t.again)
	case IntentGoodbye:
		t.goodbye(ReasonCallerDone)
		return true, nil
	case IntentComplaints:
		t.complaints()
		return true, t.again()
	}
	return false, nil
}

// verify asks the Verifier about the pending case number and the date of
// birth. Only VerdictVerified sets State.Verified.
func (t *turn) verify(birthDate string) error {
	number := t.st.PendingCase
	if number == "" && t.st.Outbound && t.st.Target != "" {
		if !t.st.RightParty {
			// Never verify before the right-party check: ask it.
			t.ask(t.f.worded(pRightPartyAgain))
			t.goTo(PhaseRightParty)
			return nil
		}
		number = t.st.Target // a restored outbound state: the number is known
	}
	if number == "" {
		// A restored state without a number cannot verify; ask again.
		t.ask(t.f.worded(pCaseNumberAgain))
		t.goTo(PhaseCaseNumber)
		return nil
	}
	verdict, err := t.f.deps.Verifier.Verify(t.ctx, t.callID, number, birthDate)
	if err != nil {
		return fmt.Errorf("dialogs: verify: %w", err)
	}
	t.st.PendingCase = ""
	switch verdict {
	case VerdictVerified:
		t.st.Verified, t.st.CaseNumber = true, number
		t.ask(pVerified, t.f.worded(pMenu))
		t.goTo(PhaseMenu)
		return nil
	case VerdictLocked:
		// Worded for "the data given", not "this case": the Verifier locks
		// unknown numbers too, so the answer is no oracle for existence.
		t.ask(pCaseLocked)
		return t.consultant(ReasonCaseLocked, func() error {
			t.ask(pContactInfo)
			t.goodbye(ReasonCaseLocked)
			return nil
		})
	case VerdictRejected:
		t.st.Attempts++
		if t.st.Attempts >= t.f.cfg.MaxAttempts {
			return t.fail(pVerifyFailed, ReasonNotVerified)
		}
		if t.st.Outbound && t.st.Target != "" {
			// The number is the call's own; only the date is asked again.
			t.st.PendingCase = t.st.Target
			t.ask(pVerifyRejected, t.f.worded(pBirthDateAgain))
			t.goTo(PhaseBirthDate)
			return nil
		}
		// One answer for every kind of mismatch, including "no such case".
		t.ask(pVerifyRejected, t.f.worded(pCaseNumberAgain))
		t.goTo(PhaseCaseNumber)
		return nil
	}
	return fmt.Errorf("dialogs: verify: unknown verdict %d", verdict)
}

// giveUpVerifying ends a verification question the caller stopped answering.
func (t *turn) giveUpVerifying() error { return t.fail(pVerifyUnfinished, ReasonNoInput) }

// fail stops verifying: the caller may talk to a consultant when one is
// free, and otherwise hears when consultants work and how to reach us.
func (t *turn) fail(why, hangupReason string) error {
	t.st.PendingCase = ""
	t.ask(why)
	if t.f.deps.Consultants.Available(t.ctx, t.at) {
		t.ask(t.f.worded(pFailedOptions))
		t.goTo(PhaseFailed)
		return nil
	}
	t.ask(pConsultantsUnavailable, pContactInfo)
	t.goodbye(hangupReason)
	return nil
}

// failed takes the choice after a failed verification.
func (t *turn) failed(it Intent) error {
	switch {
	case it.Kind == IntentChoice && it.Choice == 1, it.Kind == IntentConsultant:
		// The consultant learns from the reason that identity is not confirmed.
		return t.consultant(ReasonNotVerified, func() error {
			t.ask(pContactInfo)
			t.goodbye(ReasonNotVerified)
			return nil
		})
	case it.Kind == IntentChoice && it.Choice == 2, it.Kind == IntentNo:
		t.goodbye(ReasonCallerDone)
		return nil
	}
	if ok, err := t.unverified(it); ok {
		return err
	}
	return t.retry(cause(it, pInvalidChoice), t.again, func() error {
		t.goodbye(ReasonNoInput)
		return nil
	})
}

// birthDateDigits checks a date of birth, keyed or spoken, and returns it
// as DDMMYYYY: a real calendar date from 1900 up to today.
func birthDateDigits(it Intent, now time.Time) (string, bool) {
	var y, m, d int
	switch it.Kind {
	case IntentDigits:
		if len(it.Digits) != len("DDMMYYYY") || !isDigits(it.Digits) {
			return "", false
		}
		d, _ = strconv.Atoi(it.Digits[0:2])
		m, _ = strconv.Atoi(it.Digits[2:4])
		y, _ = strconv.Atoi(it.Digits[4:8])
	case IntentDate:
		if it.Date.IsZero() {
			return "", false
		}
		var mm time.Month
		y, mm, d = it.Date.Date()
		m = int(mm)
	default:
		return "", false
	}
	date := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if date.Year() != y || int(date.Month()) != m || date.Day() != d || y < earliestBirthYear {
		return "", false
	}
	if !now.IsZero() {
		ny, nm, nd := now.Date()
		if date.After(time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)) {
			return "", false
		}
	}
	return fmt.Sprintf("%02d%02d%04d", d, m, y), true
}
