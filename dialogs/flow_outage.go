package dialogs

// An outage is the engine telling the flow that the case data (Redis)
// could not be reached for the caller's last input. The conversation
// keeps its state; the caller hears an apology and what still works
// without the data: a consultant (a transfer needs no Redis), a callback
// for a verified caller (booked once the data is back), or trying again.

// outage apologises and offers the options; the interrupted phase is
// remembered so that "try again" returns to it.
func (t *turn) outage() error {
	if t.st.Outbound && !t.st.RightParty {
		// Nobody is identified yet, so nothing is offered: the right-party
		// question (which needs no data) is asked again.
		t.note(pDataUnavailable)
		return t.again()
	}
	if t.st.Phase != PhaseOutage {
		t.st.Resume = t.st.Phase
	}
	t.note(pDataUnavailable)
	t.outageOptions()
	t.goTo(PhaseOutage)
	return nil
}

// outageOptions asks for the choice: verified callers may also book a
// callback.
func (t *turn) outageOptions() {
	if t.st.Verified {
		t.ask(pOutageOptionsVerified)
		return
	}
	t.ask(pOutageOptions)
}

// outageChoice takes the caller's choice during an outage.
func (t *turn) outageChoice(it Intent) error {
	if it.Kind == IntentChoice && it.Choice >= 0 && it.Choice <= 9 {
		it.Kind = menuIntent(byte('0' + it.Choice))
	}
	switch it.Kind {
	case IntentConsultant:
		return t.consultant(ReasonDataOutage, func() error {
			t.ask(pContactInfo)
			t.goodbye(ReasonDataOutage)
			return nil
		})
	case IntentCallback:
		if t.st.Verified {
			t.st.Resume = ""
			t.goTo(PhaseMenu) // offerSlots moves on from the menu
			return t.offerSlots()
		}
	case IntentDebt: // key 1: try again
		return t.resume()
	case IntentRepeat:
		return t.repeat()
	case IntentNo, IntentGoodbye:
		t.goodbye(ReasonCallerDone)
		return nil
	}
	return t.retry(cause(it, pInvalidChoice), t.again, func() error {
		t.goodbye(ReasonNoInput)
		return nil
	})
}

// resume asks the interrupted question again. Slots offered before the
// outage are stale: a fresh offer is made.
func (t *turn) resume() error {
	p := t.st.Resume
	t.st.Resume = ""
	switch p {
	case PhaseCallbackPick:
		t.goTo(PhaseMenu)
		return t.offerSlots()
	case PhaseCaseNumber, PhaseBirthDate, PhaseFailed, PhaseMenu, PhaseRightParty:
		t.goTo(p)
	default:
		if t.st.Verified {
			t.goTo(PhaseMenu)
		} else {
			t.goTo(PhaseCaseNumber)
		}
	}
	return t.again()
}
