package dialogs

import (
	"time"

	"hotline/telephony/speech/say"
)

// State is the conversation state of one call, persisted as JSON inside the
// call's session in Redis. Field names are part of the stored format: add
// fields, never rename them.
type State struct {
	Phase Phase `json:"phase"`
	// Verified is true once the case number and date of birth matched.
	// Only a VerdictVerified from the Verifier sets it.
	Verified bool `json:"verified"`
	// CaseNumber is the case the caller verified for ("" before that).
	CaseNumber string `json:"case_number,omitempty"`

	// PendingCase is the case number entered and waiting for the date of
	// birth; it is cleared by the verification that follows.
	PendingCase string `json:"pending_case,omitempty"`
	// Attempts counts rejected verifications on this call.
	Attempts int `json:"attempts,omitempty"`
	// Reprompts counts consecutive timeouts and unfitting answers to the
	// current question; asking a new question resets it.
	Reprompts int `json:"reprompts,omitempty"`
	// Awaiting is the input the current question takes (see Expect).
	Awaiting Expect `json:"awaiting,omitzero"`
	// Slots are the callback slots offered in PhaseCallbackPick, in the
	// order of their keys.
	Slots []time.Time `json:"slots,omitempty"`
	// LastSay is what IntentRepeat says again: the last reply without its
	// one-off parts ("Nie usłyszałem odpowiedzi.").
	LastSay []say.Utterance `json:"last_say,omitempty"`
	// TransferReason is set while the flow's transfer is pending: the call
	// has ended for the flow, unless the transfer fails
	// (InputTransferFailed reopens it).
	TransferReason string `json:"transfer_reason,omitempty"`
	// LastDisclosed are the disclosures LastSay makes; a repeat records
	// them again, because the facts are said again.
	LastDisclosed []DisclosureKind `json:"last_disclosed,omitempty"`

	// Outbound marks a call the assistant placed (see NewOutbound).
	Outbound bool `json:"outbound,omitempty"`
	// Target is the case number an outbound call is for. It is not
	// verified and never said; verification checks the date of birth
	// against it once the callee confirmed being the person called.
	Target string `json:"target,omitempty"`
	// RightParty is true once the callee of an outbound call said they are
	// the person called (before that, no verification is even asked).
	RightParty bool `json:"right_party,omitempty"`

	// Resume is the phase an outage interrupted (PhaseOutage): "try
	// again" asks its question once more.
	Resume Phase `json:"resume,omitempty"`
}

// Expect tells what the current phase waits for: the question's input
// kind, the keypad limits and the timeout. It is the zero Expect before the
// start and after the end.
func (s State) Expect() Expect { return s.Awaiting }
