// Package dialogs holds the assistant's conversation flows as a pure state
// machine: phases, transitions and the prompts spoken at each step. It has
// no Redis, no network and no audio; what it needs from the outside world
// (case lookup, identity verification, callback slots, consultant hours) it
// declares as small interfaces in deps.go, implemented in assistant.
//
// Privacy by construction: every utterance that carries case data is built
// by a function that first checks State.Verified (see disclose.go), and the
// engine re-checks the returned Disclosures against the saved session.
package dialogs

import (
	"time"

	"hotline/telephony/speech/say"
)

// Phase is where a conversation stands.
type Phase string

// Phases of the inbound flow.
const (
	PhaseStart        Phase = ""              // nothing said yet
	PhaseCaseNumber   Phase = "case_number"   // waiting for the case file number
	PhaseBirthDate    Phase = "birth_date"    // waiting for the date of birth
	PhaseFailed       Phase = "failed"        // verification failed 3×: 1 consultant, 2 goodbye
	PhaseMenu         Phase = "menu"          // verified, main menu
	PhaseCallbackPick Phase = "callback_pick" // choosing a callback slot
	PhaseRightParty   Phase = "right_party"   // outbound: is this the person called? 1 yes, 2 no, 3 absent
	PhaseOutage       Phase = "outage"        // case data unreachable: 0 consultant, 3 callback, 1 try again
	PhaseEnded        Phase = "ended"         // conversation over (hangup or transfer issued)
)

// InputKind is the kind of event the caller produced.
type InputKind uint8

// Input kinds.
const (
	InputUnknown InputKind = iota
	InputStart             // the call was answered: say the greeting
	InputKeys              // keypad keys (0-9*#)
	InputSpeech            // a transcript of what the caller said
	InputTimeout           // no input before the expected-input timeout
	InputHangup            // the caller hung up
	// InputTransferFailed: the transfer the flow asked for did not reach a
	// consultant; the caller is back with the assistant.
	InputTransferFailed
	// InputOutage: the engine could not reach the case data (Redis is
	// down) to answer the caller's last input; the flow apologises and
	// offers what works without it (flow_outage.go).
	InputOutage
)

var inputKindNames = [...]string{"unknown", "start", "keys", "speech", "timeout", "hangup", "transfer_failed", "outage"}

// String returns the input kind's name.
func (k InputKind) String() string {
	if int(k) < len(inputKindNames) {
		return inputKindNames[k]
	}
	return "invalid"
}

// Input is one caller event.
type Input struct {
	Kind InputKind
	Keys string // InputKeys: only 0-9*#
	Text string // InputSpeech: transcript
	At   time.Time
}

// IntentKind is what the caller meant, independent of how they said it.
type IntentKind string

// Intents. Menu intents map to menu keys; value intents carry slots.
const (
	IntentNone       IntentKind = ""
	IntentDebt       IntentKind = "debt"       // menu 1
	IntentPayments   IntentKind = "payments"   // menu 2
	IntentCallback   IntentKind = "callback"   // menu 3
	IntentComplaints IntentKind = "complaints" // menu 4
	IntentConsultant IntentKind = "consultant" // menu 0
	IntentRepeat     IntentKind = "repeat"     // menu 9
	IntentYes        IntentKind = "yes"
	IntentNo         IntentKind = "no"
	IntentGoodbye    IntentKind = "goodbye"
	IntentDigits     IntentKind = "digits" // Intent.Digits holds 0-9 only
	IntentDate       IntentKind = "date"   // Intent.Date holds a calendar date (birth date)
	IntentSlot       IntentKind = "slot"   // Intent.When holds a wall-clock time (callback)
	IntentChoice     IntentKind = "choice" // Intent.Choice holds a numbered option (1-based)
	IntentUnknown    IntentKind = "unknown"
)

// Intent is the understood meaning of one Input. Slots are re-checked by
// the flow (format, ranges) whatever produced them.
type Intent struct {
	Kind   IntentKind `json:"kind"`
	Digits string     `json:"digits,omitempty"`
	Date   time.Time  `json:"date,omitzero"` // UTC midnight of the date
	When   time.Time  `json:"when,omitzero"` // Europe/Warsaw wall-clock instant
	Choice int        `json:"choice,omitempty"`
	Source string     `json:"source,omitempty"` // "keys", "rules", "llm"
}

// ExpectKind tells the understanding step (keypad parsing, NLU) what kind
// of answer the current question takes.
type ExpectKind string

// Expectations.
const (
	ExpectNothing    ExpectKind = ""
	ExpectCaseNumber ExpectKind = "case_number" // digits ended by #
	ExpectBirthDate  ExpectKind = "birth_date"  // DDMMYYYY
	ExpectMenu       ExpectKind = "menu"        // one key
	ExpectChoice     ExpectKind = "choice"      // one key choosing a numbered option
	ExpectSlot       ExpectKind = "slot"        // numbered slot, or a spoken day and time
)

// Expect describes the input the flow waits for next.
type Expect struct {
	Kind      ExpectKind    `json:"kind"`
	MaxDigits int           `json:"max_digits,omitempty"` // collect at most this many keys
	Finish    string        `json:"finish,omitempty"`     // key that ends collection, "#"
	Timeout   time.Duration `json:"timeout,omitempty"`
	Options   int           `json:"options,omitempty"` // ExpectChoice/ExpectSlot: number of options
}

// ActionKind is a side effect the engine performs after a turn.
type ActionKind string

// Actions.
const (
	ActionNone     ActionKind = ""
	ActionTransfer ActionKind = "transfer" // hand the call to a consultant
	ActionHangup   ActionKind = "hangup"   // end the call
)

// Action is what the engine must do after speaking the reply.
type Action struct {
	Kind   ActionKind `json:"kind"`
	Reason string     `json:"reason,omitempty"`
}

// Action reasons: why the flow ended the conversation. They label the
// call's termination and tell a consultant why a transfer came.
const (
	ReasonCallerHangup  = "caller_hangup"    // the caller hung up
	ReasonCallerDone    = "caller_done"      // the caller said goodbye or chose to end
	ReasonCallerRequest = "caller_request"   // the caller asked for a consultant
	ReasonCaseLocked    = "case_locked"      // self-service is locked for the case
	ReasonNoInput       = "no_input"         // the caller stopped answering
	ReasonNotVerified   = "not_verified"     // identity could not be confirmed
	ReasonTransferFail  = "transfer_failed"  // no consultant took the transfer
	ReasonDataOutage    = "data_unavailable" // the case data could not be reached
)

// DisclosureKind names one fact about a case told to the caller.
type DisclosureKind string

// Disclosure kinds.
const (
	DiscloseBalance         DisclosureKind = "balance"
	DisclosePrincipal       DisclosureKind = "principal"
	DiscloseInterest        DisclosureKind = "interest"
	DiscloseFees            DisclosureKind = "fees"
	DiscloseCreditor        DisclosureKind = "creditor"
	DiscloseAccount         DisclosureKind = "bank_account"
	DiscloseLastPayment     DisclosureKind = "last_payment"
	DiscloseNextInstallment DisclosureKind = "next_installment"
	DiscloseCallback        DisclosureKind = "callback" // a booked callback slot was confirmed
)

// Disclosure records that a fact about a case was said on a call.
type Disclosure struct {
	Kind       DisclosureKind `json:"kind"`
	CaseNumber string         `json:"case_number"`
	At         time.Time      `json:"at"`
}

// Reply is the outcome of one turn.
type Reply struct {
	Say         []say.Utterance `json:"say,omitempty"`
	Action      Action          `json:"action"`
	Expect      Expect          `json:"expect"`
	Disclosures []Disclosure    `json:"disclosures,omitempty"`
	Callback    *Callback       `json:"callback,omitempty"` // set on the turn that booked one
}

// Callback is a callback booked during the call.
type Callback struct {
	CaseNumber string    `json:"case_number"`
	At         time.Time `json:"at"`
}

// Case is what the flow may tell a verified caller about their case. Money
// is in grosze.
type Case struct {
	Number          string
	Creditor        string
	Principal       int64
	Interest        int64
	Fees            int64
	BankAccount     string   // 26-digit NRB
	LastPayment     *Payment // nil when none
	NextInstallment *Payment // nil when none
}

// Balance is principal + interest + fees, in grosze.
func (c Case) Balance() int64 { return c.Principal + c.Interest + c.Fees }

// Payment is a dated amount.
type Payment struct {
	Date   time.Time // calendar date (UTC midnight)
	Amount int64     // grosze
}
