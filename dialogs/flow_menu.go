package dialogs

import "hotline/telephony/speech/say"

// menu takes the verified caller's choice in the main menu.
func (t *turn) menu(it Intent) error {
	if it.Kind == IntentChoice && it.Choice >= 0 && it.Choice <= 9 {
		// A spoken "jeden" is the key 1.
		it.Kind = menuIntent(byte('0' + it.Choice))
	}
	switch it.Kind {
	case IntentDebt:
		return t.debt()
	case IntentPayments:
		return t.payments()
	case IntentCallback:
		return t.offerSlots()
	case IntentSlot:
		// "Proszę zadzwonić jutro o piętnastej" straight from the menu.
		if inFuture(it.When, t.at) {
			return t.book(it.When)
		}
		t.note(pSlotUnavailable)
		return t.offerSlots()
	case IntentComplaints:
		t.complaints()
		t.anythingElse()
		return nil
	case IntentConsultant:
		return t.consultant(ReasonCallerRequest, t.offerSlots)
	case IntentRepeat:
		return t.repeat()
	case IntentYes:
		t.ask(t.f.worded(pMenu))
		t.goTo(PhaseMenu)
		return nil
	case IntentNo, IntentGoodbye:
		// "Nie" answers "Czy mogę jeszcze w czymś pomóc?".
		t.goodbye(ReasonCallerDone)
		return nil
	}
	return t.retry(cause(it, pInvalidChoice), t.again, func() error {
		t.goodbye(ReasonNoInput)
		return nil
	})
}

// anythingElse closes a menu answer with the short menu.
func (t *turn) anythingElse() {
	t.ask(pAnythingElse, t.f.worded(pMenuShort))
	t.goTo(PhaseMenu)
}

// debt tells the balance, its parts and the creditor, fresh from the case
// store.
func (t *turn) debt() error {
	c, ok, err := t.loadCase()
	if err != nil {
		return err
	}
	if !ok {
		t.ask(pInfoUnavailable)
		t.anythingElse()
		return nil
	}
	err = t.disclose(
		[]DisclosureKind{DiscloseBalance, DisclosePrincipal, DiscloseInterest, DiscloseFees, DiscloseCreditor},
		say.New(say.Prompt(pDebtBalance), say.Amount(c.Balance())),
		say.New(say.Prompt(pDebtPrincipal), say.Amount(c.Principal)),
		say.New(say.Prompt(pDebtInterest), say.Amount(c.Interest)),
		say.New(say.Prompt(pDebtFees), say.Amount(c.Fees)),
		say.New(say.Prompt(pDebtCreditor), say.Text(c.Creditor)),
	)
	if err != nil {
		return err
	}
	t.anythingElse()
	return nil
}

// payments tells where and how to pay, the last payment and the next
// instalment, fresh from the case store.
func (t *turn) payments() error {
	c, ok, err := t.loadCase()
	if err != nil {
		return err
	}
	if !ok {
		t.ask(pInfoUnavailable)
		t.anythingElse()
		return nil
	}
	last := say.New(say.Prompt(pPayNone))
	if p := c.LastPayment; p != nil {
		last = say.New(say.Prompt(pPayLast), say.Date(p.Date), say.Prompt(pInAmount), say.Amount(p.Amount))
	}
	next := say.New(say.Prompt(pPayNextNone))
	if p := c.NextInstallment; p != nil {
		next = say.New(say.Prompt(pPayNext), say.Date(p.Date), say.Prompt(pInAmount), say.Amount(p.Amount))
	}
	err = t.disclose(
		[]DisclosureKind{DiscloseAccount, DiscloseLastPayment, DiscloseNextInstallment},
		say.New(say.Prompt(pPayAccount), say.Account(c.BankAccount)),
		say.New(say.Prompt(pPayTitle), say.Digits(c.Number)),
		last,
		next,
	)
	if err != nil {
		return err
	}
	t.anythingElse()
	return nil
}
