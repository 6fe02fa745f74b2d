package dialogs_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"hotline/dialogs"
	"hotline/telephony/speech/say"
)

// The fake world: one normal case, one locked case, and nothing else.
const (
	goodCase   = "12345678"
	goodBirth  = "01021980"
	lockedCase = "87654321"
	callID     = "call-1"
)

var (
	// warsaw is a fixed +01:00 zone, so tests need no tzdata.
	warsaw = time.FixedZone("CET", 3600)
	// now is a Monday morning.
	now = time.Date(2026, 3, 16, 10, 0, 0, 0, warsaw)
	// freeSlots are the callback slots the fake offers, in order.
	freeSlots = []time.Time{
		time.Date(2026, 3, 17, 9, 0, 0, 0, warsaw),
		time.Date(2026, 3, 17, 10, 30, 0, 0, warsaw),
		time.Date(2026, 3, 17, 15, 0, 0, 0, warsaw),
		time.Date(2026, 3, 18, 9, 0, 0, 0, warsaw),
	}
	goodBirthDate = time.Date(1980, 2, 1, 0, 0, 0, 0, time.UTC)
)

// goodCaseData is what the fake case store holds for goodCase.
func goodCaseData() dialogs.Case {
	return dialogs.Case{
		Number:      goodCase,
		Creditor:    "Bank Przykładowy",
		Principal:   120000,
		Interest:    3450,
		Fees:        1000,
		BankAccount: "61109010140000071219812874",
		LastPayment: &dialogs.Payment{Date: time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC), Amount: 15000},
		NextInstallment: &dialogs.Payment{
			Date: time.Date(2026, 3, 25, 0, 0, 0, 0, time.UTC), Amount: 20000},
	}
}

// world fakes every dependency of the flow with func fields that a test
// replaces, and records the calls that matter.
type world struct {
	verify    func(number, birthDate string) (dialogs.Verdict, error)
	findCase  func(number string) (dialogs.Case, error)
	slots     func(now time.Time, n int) ([]time.Time, error)
	book      func(number string, at time.Time) error
	available func(now time.Time) bool

	verified []string    // "number/birthDate" of every Verify call
	booked   []time.Time // every successful Book
}

var (
	_ dialogs.Verifier    = (*world)(nil)
	_ dialogs.CaseFinder  = (*world)(nil)
	_ dialogs.Callbacks   = (*world)(nil)
	_ dialogs.Consultants = (*world)(nil)
)

// newWorld returns the standard fake: goodCase verifies with goodBirth,
// lockedCase is locked, every slot is free and a consultant is free.
func newWorld() *world {
	return &world{
		verify: func(number, birthDate string) (dialogs.Verdict, error) {
			switch {
			case number == lockedCase:
				return dialogs.VerdictLocked, nil
			case number == goodCase && birthDate == goodBirth:
				return dialogs.VerdictVerified, nil
			}
			return dialogs.VerdictRejected, nil
		},
		findCase: func(number string) (dialogs.Case, error) {
			if number == goodCase {
				return goodCaseData(), nil
			}
			return dialogs.Case{}, dialogs.ErrCaseNotFound
		},
		slots: func(_ time.Time, n int) ([]time.Time, error) {
			return slices.Clone(freeSlots[:min(n, len(freeSlots))]), nil
		},
		book:      func(string, time.Time) error { return nil },
		available: func(time.Time) bool { return true },
	}
}

func (w *world) Verify(_ context.Context, _, number, birthDate string) (dialogs.Verdict, error) {
	w.verified = append(w.verified, number+"/"+birthDate)
	return w.verify(number, birthDate)
}

func (w *world) FindCase(_ context.Context, number string) (dialogs.Case, error) {
	return w.findCase(number)
}

func (w *world) Slots(_ context.Context, now time.Time, n int) ([]time.Time, error) {
	return w.slots(now, n)
}

func (w *world) Book(_ context.Context, _, number string, at time.Time) error {
	if err := w.book(number, at); err != nil {
		return err
	}
	w.booked = append(w.booked, at)
	return nil
}

func (w *world) Available(_ context.Context, now time.Time) bool { return w.available(now) }

func (w *world) deps() dialogs.Deps {
	return dialogs.Deps{Verifier: w, Cases: w, Callbacks: w, Consultants: w}
}

// newFlow builds a flow over w.
func newFlow(t testing.TB, cfg dialogs.Config, w *world) *dialogs.Flow {
	t.Helper()
	f, err := dialogs.New(cfg, w.deps())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return f
}

// event is one caller event as the engine produces it: keys are parsed
// with ParseKeys for the state's Expect, anything else carries its intent.
type event struct {
	in dialogs.Input
	it dialogs.Intent
}

func start() event { return event{in: dialogs.Input{Kind: dialogs.InputStart}} }

func keys(k string) event { return event{in: dialogs.Input{Kind: dialogs.InputKeys, Keys: k}} }

func speech(it dialogs.Intent) event {
	it.Source = "rules"
	return event{in: dialogs.Input{Kind: dialogs.InputSpeech, Text: "…"}, it: it}
}

func intent(k dialogs.IntentKind) event { return speech(dialogs.Intent{Kind: k}) }

func timeout() event { return event{in: dialogs.Input{Kind: dialogs.InputTimeout}} }

func hangup() event { return event{in: dialogs.Input{Kind: dialogs.InputHangup}} }

// step runs one event against st like the engine does.
func step(f *dialogs.Flow, st *dialogs.State, ev event) (dialogs.Reply, error) {
	in, it := ev.in, ev.it
	if in.At.IsZero() {
		in.At = now
	}
	if in.Kind == dialogs.InputKeys {
		it = dialogs.ParseKeys(st.Expect(), in.Keys)
	}
	return f.Step(context.Background(), callID, st, in, it)
}

// walk runs events from a fresh state and returns the state reached.
func walk(t testing.TB, f *dialogs.Flow, evs ...event) dialogs.State {
	t.Helper()
	var st dialogs.State
	for i, ev := range evs {
		if _, err := step(f, &st, ev); err != nil {
			t.Fatalf("walk step %d (%+v): %v", i, ev, err)
		}
	}
	return st
}

// Paths to the phases, as a caller gets there.
var (
	toCaseNumber = []event{start()}
	toBirthDate  = []event{start(), keys(goodCase + "#")}
	toMenu       = []event{start(), keys(goodCase + "#"), keys(goodBirth)}
	toPick       = append(slices.Clone(toMenu), keys("3"))
	toFailed     = []event{start(),
		keys("111111#"), keys(goodBirth), keys("222222#"), keys(goodBirth), keys("333333#"), keys(goodBirth)}
)

// promptIDs lists the prompt ids of a reply in order.
func promptIDs(r dialogs.Reply) []string {
	var ids []string
	for _, u := range r.Say {
		ids = append(ids, u.Prompts()...)
	}
	return ids
}

// disclosed lists the disclosure kinds of a reply in order.
func disclosed(r dialogs.Reply) []dialogs.DisclosureKind {
	var ks []dialogs.DisclosureKind
	for _, d := range r.Disclosures {
		ks = append(ks, d.Kind)
	}
	return ks
}

// caseSegments lists the segments of a reply that may carry case data.
func caseSegments(r dialogs.Reply) []say.Segment {
	var out []say.Segment
	for _, u := range r.Say {
		for _, s := range u.Segments {
			switch s.Kind {
			case say.KindAmount, say.KindDate, say.KindTime, say.KindAccount, say.KindText, say.KindDigits:
				out = append(out, s)
			}
		}
	}
	return out
}
