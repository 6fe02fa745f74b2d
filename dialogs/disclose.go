package dialogs

import (
	"errors"
	"fmt"

	"hotline/telephony/speech/say"
)

// errNotVerified: case data was about to be said on a call whose caller is
// not verified. It means a bug in the flow; the turn is dropped.
var errNotVerified = errors.New("dialogs: case data requested before verification")

// requireVerified is the gate in front of everything that touches a case:
// the state must be verified, for a case.
func requireVerified(st *State) error {
	if !st.Verified || st.CaseNumber == "" {
		return errNotVerified
	}
	return nil
}

// disclose is the only way case data enters a reply: it checks the state
// right before, says the utterances and records one Disclosure of each
// kind for the verified case.
func (t *turn) disclose(kinds []DisclosureKind, us ...say.Utterance) error {
	if err := requireVerified(&t.st); err != nil {
		return err
	}
	t.keepSay(us...)
	for _, k := range kinds {
		t.reply.Disclosures = append(t.reply.Disclosures, Disclosure{Kind: k, CaseNumber: t.st.CaseNumber, At: t.at})
		t.kept = append(t.kept, k)
	}
	return nil
}

// loadCase fetches the verified caller's case, re-checking the state just
// before. A case that vanished since verification is reported as !ok.
func (t *turn) loadCase() (Case, bool, error) {
	if err := requireVerified(&t.st); err != nil {
		return Case{}, false, err
	}
	c, err := t.f.deps.Cases.FindCase(t.ctx, t.st.CaseNumber)
	switch {
	case errors.Is(err, ErrCaseNotFound):
		return Case{}, false, nil
	case err != nil:
		return Case{}, false, fmt.Errorf("dialogs: find case: %w", err)
	case c.Number != t.st.CaseNumber:
		// Never tell one case's facts on another case's call.
		return Case{}, false, fmt.Errorf("%w: store returned another case", errNotVerified)
	}
	return c, true, nil
}

// sensitive reports whether a segment may carry case data. Before
// verification only prompts and plain counts are said.
func sensitive(s say.Segment) bool {
	return s.Kind != say.KindPrompt && s.Kind != say.KindNumber
}

// anySensitive reports whether any utterance has a sensitive segment.
func anySensitive(us []say.Utterance) bool {
	for _, u := range us {
		for _, s := range u.Segments {
			if sensitive(s) {
				return true
			}
		}
	}
	return false
}

// checkReply is the last look at a finished turn: without a verified
// case, no disclosure, no booked callback and no sensitive segment.
func checkReply(st *State, r *Reply) error {
	if requireVerified(st) == nil {
		return nil
	}
	if len(r.Disclosures) > 0 || r.Callback != nil || anySensitive(r.Say) {
		return errNotVerified
	}
	return nil
}
