package dialogs

import "slices"

// Prompt ids. The Polish texts live in configs/prompts.pl.yaml; a test
// keeps the two in step. Ids marked "+speech" have a "_speech" twin used
// when Config.SpeechInput is set (it invites the caller to speak).
const (
	// Opening.
	pGreeting        = "greeting"
	pNoticeAI        = "notice_ai"        // AI Act art. 50: a virtual assistant speaks
	pNoticeRecording = "notice_recording" // GDPR art. 13: recording, controller, purpose

	// Verification.
	pAskCaseNumber    = "ask_case_number"   // +speech
	pCaseNumberAgain  = "case_number_again" // +speech
	pAskBirthDate     = "ask_birth_date"    // +speech
	pBirthDateAgain   = "birth_date_again"  // +speech
	pVerified         = "verified"
	pVerifyRejected   = "verify_rejected" // says neither which part was wrong nor whether the case exists
	pVerifyFailed     = "verify_failed"
	pVerifyUnfinished = "verify_unfinished"
	pFailedOptions    = "failed_options" // +speech
	pCaseLocked       = "case_locked"

	// Re-prompt causes.
	pNotHeard          = "not_heard"
	pNotUnderstood     = "not_understood"
	pInvalidChoice     = "invalid_choice"
	pInvalidCaseNumber = "invalid_case_number"
	pInvalidBirthDate  = "invalid_birth_date"
	pInfoUnavailable   = "info_unavailable"

	// Menu.
	pMenu         = "menu" // +speech
	pAnythingElse = "anything_else"
	pMenuShort    = "menu_short" // +speech

	// Menu 1: debt.
	pDebtBalance   = "debt_balance"
	pDebtPrincipal = "debt_principal"
	pDebtInterest  = "debt_interest"
	pDebtFees      = "debt_fees"
	pDebtCreditor  = "debt_creditor"

	// Menu 2: payments.
	pPayAccount  = "pay_account"
	pPayTitle    = "pay_title"
	pPayLast     = "pay_last"
	pPayNone     = "pay_none"
	pPayNext     = "pay_next"
	pPayNextNone = "pay_next_none"
	pInAmount    = "in_amount"

	// Menu 3: callback.
	pCallbackOffer   = "callback_offer"
	pSlotOption      = "slot_option"
	pAtHour          = "at_hour"
	pSlotChoose      = "slot_choose" // +speech
	pSlotUnavailable = "slot_unavailable"
	pNoSlots         = "no_slots"
	pCallbackBooked  = "callback_booked"

	// Menu 4: complaints and contact.
	pComplaintsHow      = "complaints_how"
	pComplaintsDeadline = "complaints_deadline"
	pComplaintsChannel  = "complaints_channel"
	pComplaintsBodies   = "complaints_bodies"
	pContactInfo        = "contact_info"

	// Outbound: the right-party check (flow_outbound.go).
	pOutboundPurpose     = "outbound_purpose"
	pRightPartyAsk       = "right_party_ask"   // +speech
	pRightPartyAgain     = "right_party_again" // +speech
	pRightPartyConfirmed = "right_party_confirmed"
	pWrongParty          = "wrong_party"
	pPartyAbsent         = "party_absent"

	// Menu 0 and the end.
	pTransfer               = "transfer"
	pTransferFailed         = "transfer_failed"
	pConsultantsUnavailable = "consultants_unavailable"
	pGoodbye                = "goodbye"

	// The case data cannot be reached (flow_outage.go).
	pDataUnavailable       = "data_unavailable"
	pOutageOptions         = "outage_options"
	pOutageOptionsVerified = "outage_options_verified"
)

// Prompts the voice layer says while a caller waits in the consultants'
// queue (assistant/voice), outside the flow.
const (
	PromptQueueWait     = "queue_wait"     // everyone is busy, please hold
	PromptQueuePosition = "queue_position" // followed by the place in line as a number
)

// HoldPromptIDs returns the prompt ids said in the consultants' queue.
func HoldPromptIDs() []string { return []string{PromptQueuePosition, PromptQueueWait} }

// speechSuffix names the twin of a prompt worded for callers who may speak.
const speechSuffix = "_speech"

// withSpeechTwin lists the prompts that have a "_speech" twin.
func withSpeechTwin() []string {
	return []string{pAskCaseNumber, pCaseNumberAgain, pAskBirthDate, pBirthDateAgain,
		pFailedOptions, pMenu, pMenuShort, pSlotChoose, pRightPartyAsk, pRightPartyAgain}
}

// PromptIDs returns every prompt id the flow can use, sorted. The prompt
// pack must have a text for each.
func PromptIDs() []string {
	ids := []string{
		pGreeting, pNoticeAI, pNoticeRecording,
		pVerified, pVerifyRejected, pVerifyFailed, pVerifyUnfinished, pCaseLocked,
		pNotHeard, pNotUnderstood, pInvalidChoice, pInvalidCaseNumber, pInvalidBirthDate, pInfoUnavailable,
		pAnythingElse,
		pDebtBalance, pDebtPrincipal, pDebtInterest, pDebtFees, pDebtCreditor,
		pPayAccount, pPayTitle, pPayLast, pPayNone, pPayNext, pPayNextNone, pInAmount,
		pCallbackOffer, pSlotOption, pAtHour, pSlotUnavailable, pNoSlots, pCallbackBooked,
		pComplaintsHow, pComplaintsDeadline, pComplaintsChannel, pComplaintsBodies, pContactInfo,
		pTransfer, pTransferFailed, pConsultantsUnavailable, pGoodbye,
		pOutboundPurpose, pRightPartyConfirmed, pWrongParty, pPartyAbsent,
		pDataUnavailable, pOutageOptions, pOutageOptionsVerified,
	}
	for _, id := range withSpeechTwin() {
		ids = append(ids, id, id+speechSuffix)
	}
	slices.Sort(ids)
	return ids
}

// worded returns the prompt id to use for id: its speech twin when the
// caller can speak and the twin exists.
func (f *Flow) worded(id string) string {
	if f.cfg.SpeechInput && slices.Contains(withSpeechTwin(), id) {
		return id + speechSuffix
	}
	return id
}
