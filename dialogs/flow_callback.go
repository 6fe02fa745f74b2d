package dialogs

import (
	"errors"
	"fmt"
	"time"

	"hotline/telephony/speech/say"
)

// offerSlots offers the next free callback slots as a new question, or
// says there are none and goes back to the menu (where 0 still reaches a
// consultant).
func (t *turn) offerSlots() error { return t.offer(true) }

// reoffer offers fresh slots within the current pick question (its
// re-prompt count goes on).
func (t *turn) reoffer() error { return t.offer(false) }

func (t *turn) offer(newQuestion bool) error {
	slots, err := t.slots()
	if err != nil {
		return err
	}
	if len(slots) == 0 {
		t.ask(pNoSlots)
		t.anythingElse()
		return nil
	}
	if err := t.sayOffer(slots); err != nil {
		return err
	}
	if newQuestion {
		t.goTo(PhaseCallbackPick)
	}
	t.st.Slots = slots
	return nil
}

// slots asks for at most CallbackSlots next slots.
func (t *turn) slots() ([]time.Time, error) {
	if err := requireVerified(&t.st); err != nil {
		return nil, err
	}
	slots, err := t.f.deps.Callbacks.Slots(t.ctx, t.at, t.f.cfg.CallbackSlots)
	if err != nil {
		return nil, fmt.Errorf("dialogs: callback slots: %w", err)
	}
	return slots[:min(len(slots), t.f.cfg.CallbackSlots)], nil
}

// sayOffer reads the slots as numbered options and asks for a choice.
// Slot times are no case facts, but they are dates and times, which are
// said to verified callers only.
func (t *turn) sayOffer(slots []time.Time) error {
	if err := requireVerified(&t.st); err != nil {
		return err
	}
	t.ask(pCallbackOffer)
	for i, s := range slots {
		t.keepSay(say.New(say.Prompt(pSlotOption), say.Number(int64(i+1)),
			say.Date(s), say.Prompt(pAtHour), say.Time(s)))
	}
	t.ask(t.f.worded(pSlotChoose))
	return nil
}

// callbackPick takes the caller's slot: a key from the offer or a spoken
// day and time (validated by Callbacks.Book).
func (t *turn) callbackPick(it Intent) error {
	switch it.Kind {
	case IntentChoice:
		if it.Choice >= 1 && it.Choice <= len(t.st.Slots) {
			return t.book(t.st.Slots[it.Choice-1])
		}
	case IntentSlot:
		if inFuture(it.When, t.at) {
			return t.book(it.When)
		}
	case IntentNo:
		t.anythingElse()
		return nil
	case IntentCallback:
		return t.offerSlots()
	case IntentDebt, IntentPayments, IntentComplaints, IntentGoodbye:
		// A change of mind: answered as in the menu.
		return t.menu(it)
	case IntentConsultant:
		return t.consultant(ReasonCallerRequest, t.again)
	case IntentRepeat:
		return t.repeat()
	}
	bad := pInvalidChoice
	if it.Kind == IntentSlot {
		bad = pSlotUnavailable // a time in the past
	}
	return t.retry(cause(it, bad), t.again, t.leavePick)
}

// leavePick gives up picking a slot and goes back to the menu, whose own
// re-prompts end a call that stays silent.
func (t *turn) leavePick() error {
	t.anythingElse()
	return nil
}

// book books the callback at `at` and confirms it in words. A slot taken
// or outside the permitted hours is said so, and fresh slots are offered.
func (t *turn) book(at time.Time) error {
	if err := requireVerified(&t.st); err != nil {
		return err
	}
	err := t.f.deps.Callbacks.Book(t.ctx, t.callID, t.st.CaseNumber, at)
	if errors.Is(err, ErrSlotUnavailable) {
		if t.st.Phase != PhaseCallbackPick {
			t.note(pSlotUnavailable)
			return t.offerSlots()
		}
		// Counts as a failed answer, so a caller who keeps naming taken
		// slots does not loop for ever.
		return t.retry(pSlotUnavailable, t.reoffer, t.leavePick)
	}
	if err != nil {
		return fmt.Errorf("dialogs: book callback: %w", err)
	}
	t.reply.Callback = &Callback{CaseNumber: t.st.CaseNumber, At: at}
	if err := t.disclose([]DisclosureKind{DiscloseCallback},
		say.New(say.Prompt(pCallbackBooked), say.Date(at), say.Prompt(pAtHour), say.Time(at))); err != nil {
		return err
	}
	t.anythingElse()
	return nil
}
