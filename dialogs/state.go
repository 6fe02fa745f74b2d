package dialogs

// State is the conversation state of one call, persisted as JSON inside the
// call's session in Redis. Field names are part of the stored format: add
// fields, never rename them.
type State struct {
	Phase Phase `json:"phase"`
	// Verified is true once the case number and date of birth matched.
	Verified bool `json:"verified"`
	// CaseNumber is the case the caller verified for ("" before that).
	CaseNumber string `json:"case_number,omitempty"`
	// TODO(dialogs helper): extend with what the flow needs.
}
