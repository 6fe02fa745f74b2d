package dialogs

// The outbound conversation: the assistant called a number on file for a
// case. Whoever answers may not be the debtor, so nothing about the case
// is said before two gates (compliance.md: GDPR art. 5(1)(f) and 32, ZPF
// ZDP §53, UOKiK RGD-2/2018 on telling third parties):
//
//  1. the right-party check: the callee says they are the person called;
//  2. verification: the date of birth matches the case the call is for.
//
// Before the first gate the callee hears only what any caller may hear:
// the greeting with the company's name, the two mandatory notices, that
// the matter is private and the question itself. The debtor's name is
// not said either: naming the person a collection company looks for
// tells a third party about them, and a name is free text, which the
// built-in prompt pack cannot render and the engine's privacy gate
// rejects before verification. The case number is known to the session
// (State.Target) but is never said and never counts as verified.

// Outcomes of an outbound conversation, named as in the contact ledger.
const (
	OutcomeRightParty = "answered-right-party" // the callee confirmed being the person called
	OutcomeWrongParty = "wrong-party"          // the callee said they are someone else
	OutcomeNoAnswer   = "no-answer"            // silence, the person absent, or no answer to the check
)

// Action reasons of the outbound flow.
const (
	ReasonWrongParty  = "wrong_party"  // the callee is not the person called
	ReasonPartyAbsent = "party_absent" // the person called is not there
)

// rightPartyOptions: 1 yes, 2 no (someone else), 3 the person is absent.
const rightPartyOptions = 3

// NewOutbound returns the state of an outbound call for the case number
// target before its first Step (InputStart). The number is kept apart
// from CaseNumber: it is not verified and nothing is told about it. With
// no target (a callback requested without a case number) the callee who
// confirms is asked for the case number like an inbound caller.
func NewOutbound(target string) State {
	return State{Outbound: true, Target: target}
}

// Outcome is how an outbound conversation that ended went: the callee
// who confirmed being the person called is the right party whatever came
// after; a callee who said no is the wrong party; anything else (silence
// like a voicemail's, the person absent, a hangup before answering) is no
// answer.
func Outcome(st State, a Action) string {
	switch {
	case st.RightParty:
		return OutcomeRightParty
	case a.Reason == ReasonWrongParty:
		return OutcomeWrongParty
	}
	return OutcomeNoAnswer
}

// startOutbound greets the callee, plays the mandatory notices in full and
// asks whether they are the person called.
func (t *turn) startOutbound() {
	t.note(pGreeting)
	t.notice(pNoticeAI)
	t.notice(pNoticeRecording)
	t.ask(pOutboundPurpose, t.f.worded(pRightPartyAsk))
	t.goTo(PhaseRightParty)
}

// rightParty takes the answer to "Czy rozmawiam z osobą, do której
// dzwonimy?". Only a yes moves on, to verification with the date of birth
// for the target case; the case number is not asked when it is known.
func (t *turn) rightParty(it Intent) error {
	switch {
	case it.Kind == IntentYes, it.Kind == IntentChoice && it.Choice == 1:
		t.st.RightParty = true
		if t.st.Target == "" {
			// A callback asked for without a case number (the web form):
			// the callee identifies as an inbound caller does.
			t.ask(pRightPartyConfirmed, t.f.worded(pAskCaseNumber))
			t.goTo(PhaseCaseNumber)
			return nil
		}
		t.st.PendingCase = t.st.Target
		t.ask(pRightPartyConfirmed, t.f.worded(pBirthDateAgain))
		t.goTo(PhaseBirthDate)
		return nil
	case it.Kind == IntentNo, it.Kind == IntentChoice && it.Choice == 2:
		t.ask(pWrongParty)
		t.goodbye(ReasonWrongParty)
		return nil
	case it.Kind == IntentChoice && it.Choice == 3:
		t.ask(pPartyAbsent)
		t.goodbye(ReasonPartyAbsent)
		return nil
	case it.Kind == IntentRepeat:
		return t.repeat()
	case it.Kind == IntentGoodbye:
		t.goodbye(ReasonCallerDone)
		return nil
	case it.Kind == IntentNone && t.st.Reprompts >= 1:
		// A second silence: most likely a voicemail recording the call.
		// Nothing more is said to it than the goodbye.
		t.goodbye(ReasonNoInput)
		return nil
	}
	// Anything else, a consultant or a complaint included, waits for the
	// answer: until then the flow does not know who it talks to.
	return t.retry(cause(it, pInvalidChoice), t.again, func() error {
		t.goodbye(ReasonNoInput)
		return nil
	})
}
