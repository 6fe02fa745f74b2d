package assistant_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"hotline/assistant"
	"hotline/assistant/assistanttest"
	"hotline/assistant/audit"
	"hotline/assistant/redistest"
	"hotline/assistant/session"
	"hotline/dialogs"
	"hotline/telephony/speech/say"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).reaper"))
}

var tuesday10 = assistanttest.Tuesday10

type rig struct {
	eng      *assistant.Engine
	sessions *session.Store
	audit    *audit.Log
}

type wrapStore func(*session.Store) assistant.SessionStore

func newRig(tb testing.TB, rdb redis.UniversalClient, prefix string, now time.Time, wrap wrapStore) *rig {
	tb.Helper()
	r := assistanttest.New(tb, rdb, prefix, assistanttest.Options{Now: func() time.Time { return now }, WrapSessions: wrap})
	return &rig{eng: r.Engine, sessions: r.Sessions, audit: r.Audit}
}

func keys(k string) dialogs.Input   { return dialogs.Input{Kind: dialogs.InputKeys, Keys: k} }
func speech(s string) dialogs.Input { return dialogs.Input{Kind: dialogs.InputSpeech, Text: s} }

func mustTurn(t *testing.T, r *rig, call string, in dialogs.Input) assistant.Turn {
	t.Helper()
	turn, err := r.eng.Handle(context.Background(), call, in)
	if err != nil {
		t.Fatalf("turn %+v: %v", in, err)
	}
	return turn
}

func TestInboundVerifiedDebtIsDisclosedAndAudited(t *testing.T) {
	rdb, prefix := redistest.Real(t)
	r := newRig(t, rdb, prefix, tuesday10, nil)
	ctx := context.Background()
	call := "call-debt"
	start, err := r.eng.Start(ctx, assistant.Call{ID: call, Direction: "inbound", Leg: "chat"})
	if err != nil {
		t.Fatal(err)
	}
	if len(start.Reply.Say) < 3 || !start.Reply.Say[1].NoBargeIn || !start.Reply.Say[2].NoBargeIn {
		t.Fatalf("opening must carry the two notices without barge-in: %+v", start.Reply.Say)
	}
	mustTurn(t, r, call, keys("12345678#"))
	// Spoken date of birth goes through the rule NLU.
	v := mustTurn(t, r, call, speech("drugiego stycznia tysiąc dziewięćset osiemdziesiątego roku"))
	if len(v.Reply.Disclosures) != 0 {
		t.Fatalf("verification turn disclosed %+v", v.Reply.Disclosures)
	}
	debt := mustTurn(t, r, call, keys("1"))
	text := strings.Join(debt.Lines, "\n")
	for _, want := range []string{
		"tysiąc czterysta dziewięćdziesiąt dziewięć złotych siedemdziesiąt osiem groszy",
		"tysiąc dwieście trzydzieści cztery złote pięćdziesiąt sześć groszy",
		"dwieście dziesięć złotych dwadzieścia dwa grosze",
		"pięćdziesiąt pięć złotych",
		"Bank Przykładowy",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("debt reply lacks %q:\n%s", want, text)
		}
	}
	s, err := r.sessions.LoadFull(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Dialog.Verified || s.Dialog.CaseNumber != "12345678" || len(s.Disclosures) != len(debt.Reply.Disclosures) {
		t.Fatalf("session after debt: verified=%v case=%q disclosures=%d", s.Dialog.Verified, s.Dialog.CaseNumber, len(s.Disclosures))
	}
	for _, l := range s.Transcript {
		if strings.Contains(l.Text, "02011980") || strings.Contains(l.Text, "osiemdziesiątego") && l.Who == session.WhoCaller {
			t.Fatalf("transcript carries the date of birth: %q", l.Text)
		}
	}
	evs, err := r.audit.Read(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var disclosed []string
	for _, e := range evs {
		if e.Type == "disclosure" && e.CallID == call {
			disclosed = append(disclosed, e.Fields["kind"])
		}
	}
	for _, k := range []string{"balance", "principal", "interest", "fees", "creditor"} {
		if !slices.Contains(disclosed, k) {
			t.Errorf("audit lacks disclosure %s (have %v)", k, disclosed)
		}
	}
}

func TestWrongBirthDateDisclosesNothingAndLockedCaseNeverVerifies(t *testing.T) {
	rdb, prefix := redistest.Real(t)
	r := newRig(t, rdb, prefix, tuesday10, nil)
	ctx := context.Background()
	// Five failures over two calls lock the case (3 per call end the call's tries).
	failures := 0
	for c := 0; failures < 5; c++ {
		call := "call-wrong-" + string(rune('a'+c))
		if _, err := r.eng.Start(ctx, assistant.Call{ID: call, Direction: "inbound", Leg: "chat"}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3 && failures < 5; i++ {
			mustTurn(t, r, call, keys("12345678#"))
			turn := mustTurn(t, r, call, keys("01011990"))
			failures++
			assertNoCaseData(t, turn)
		}
	}
	call := "call-right-after-lock"
	if _, err := r.eng.Start(ctx, assistant.Call{ID: call, Direction: "inbound", Leg: "chat"}); err != nil {
		t.Fatal(err)
	}
	mustTurn(t, r, call, keys("12345678#"))
	turn := mustTurn(t, r, call, keys("02011980"))
	assertNoCaseData(t, turn)
	s, err := r.sessions.Load(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	if s.Dialog.Verified {
		t.Fatal("a locked case verified")
	}
}

func assertNoCaseData(t *testing.T, turn assistant.Turn) {
	t.Helper()
	if len(turn.Reply.Disclosures) > 0 {
		t.Fatalf("disclosed before verification: %+v", turn.Reply.Disclosures)
	}
	for _, u := range turn.Reply.Say {
		for _, seg := range u.Segments {
			if seg.Kind != say.KindPrompt && seg.Kind != say.KindNumber {
				t.Fatalf("%s segment before verification", seg.Kind)
			}
		}
	}
	for _, l := range turn.Lines {
		if strings.Contains(l, "złot") || strings.Contains(l, "Bank") {
			t.Fatalf("case data in %q", l)
		}
	}
}

// barrierStore lets two turns load the same session version before
// either saves, the race that compare-and-set must settle.
type barrierStore struct {
	*session.Store
	loaded sync.WaitGroup
}

func (b *barrierStore) Load(ctx context.Context, id string) (*session.Session, error) {
	s, err := b.Store.Load(ctx, id)
	b.loaded.Done()
	b.loaded.Wait()
	return s, err
}

func TestConcurrentTurnsOnOneCallNeverBothApply(t *testing.T) {
	rdb, prefix := redistest.Real(t)
	var bs *barrierStore
	r := newRig(t, rdb, prefix, tuesday10, func(s *session.Store) assistant.SessionStore {
		bs = &barrierStore{Store: s}
		return bs
	})
	ctx := context.Background()
	for i := range 50 {
		call := "call-race-" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		bs.loaded.Add(1) // Start's own Handle loads once
		if _, err := r.eng.Start(ctx, assistant.Call{ID: call, Direction: "inbound", Leg: "chat"}); err != nil {
			t.Fatal(err)
		}
		before, err := r.sessions.Load(ctx, call)
		if err != nil {
			t.Fatal(err)
		}
		bs.loaded.Add(2)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for g, in := range []dialogs.Input{keys("12345678#"), keys("87654321#")} {
			wg.Go(func() { _, errs[g] = r.eng.Handle(ctx, call, in) })
		}
		wg.Wait()
		ok, conflicts := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, assistant.ErrConflict):
				conflicts++
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if ok != 1 || conflicts != 1 {
			t.Fatalf("round %d: %d applied, %d conflicts; want exactly one of each", i, ok, conflicts)
		}
		after, err := r.sessions.LoadFull(ctx, call)
		if err != nil {
			t.Fatal(err)
		}
		if after.Version != before.Version+1 {
			t.Fatalf("version %d → %d: more than one turn applied", before.Version, after.Version)
		}
		callerLines := 0
		for _, l := range after.Transcript {
			if l.Who == session.WhoCaller {
				callerLines++
			}
		}
		if callerLines != 1 {
			t.Fatalf("transcript holds %d caller inputs, want 1", callerLines)
		}
	}
}

func TestTransferCarriesContext(t *testing.T) {
	rdb, prefix := redistest.Real(t)
	r := newRig(t, rdb, prefix, tuesday10, nil)
	ctx := context.Background()
	call := "call-transfer"
	if _, err := r.eng.Start(ctx, assistant.Call{ID: call, Direction: "inbound", Leg: "chat"}); err != nil {
		t.Fatal(err)
	}
	mustTurn(t, r, call, keys("12345678#"))
	mustTurn(t, r, call, keys("02011980"))
	mustTurn(t, r, call, keys("1"))
	turn := mustTurn(t, r, call, keys("0"))
	if turn.Reply.Action.Kind != dialogs.ActionTransfer || !turn.Ended {
		t.Fatalf("want a transfer that ends the bot's part, got %+v ended=%v", turn.Reply.Action, turn.Ended)
	}
	tc := turn.Transfer
	if tc == nil || !tc.Verified || tc.CaseNumber != "12345678" || len(tc.Disclosures) < 5 || len(tc.Transcript) < 10 {
		t.Fatalf("transfer context incomplete: %+v", tc)
	}
	for _, l := range tc.Transcript {
		if strings.Contains(l.Text, "02011980") {
			t.Fatalf("transfer transcript carries the date of birth: %q", l.Text)
		}
	}
	if _, err := r.eng.Handle(ctx, call, keys("1")); !errors.Is(err, assistant.ErrCallEnded) {
		t.Fatalf("turn after the end: %v", err)
	}
	// The transfer is pending until telephony reports its outcome.
	s, err := r.sessions.Load(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	if s.Termination != "transferred:caller_request" || !s.EndedAt.IsZero() {
		t.Fatalf("pending transfer: termination = %q ended=%v", s.Termination, s.EndedAt)
	}
	if err := r.eng.Finish(ctx, call, "transferred"); err != nil {
		t.Fatal(err)
	}
	if s, err = r.sessions.Load(ctx, call); err != nil {
		t.Fatal(err)
	}
	if s.Termination != "transferred:caller_request" || s.EndedAt.IsZero() {
		t.Fatalf("after the transfer: termination = %q ended=%v", s.Termination, s.EndedAt)
	}
}

func TestFailedTransferOffersCallback(t *testing.T) {
	rdb, _, prefix := redistest.Mini(t)
	r := newRig(t, rdb, prefix, tuesday10, nil)
	ctx := context.Background()
	call := "call-transfer-fails"
	if _, err := r.eng.Start(ctx, assistant.Call{ID: call, Direction: "inbound", Leg: "sip"}); err != nil {
		t.Fatal(err)
	}
	mustTurn(t, r, call, keys("12345678#"))
	mustTurn(t, r, call, keys("02011980"))
	if turn := mustTurn(t, r, call, keys("0")); turn.Reply.Action.Kind != dialogs.ActionTransfer {
		t.Fatalf("no transfer: %+v", turn.Reply.Action)
	}
	turn := mustTurn(t, r, call, dialogs.Input{Kind: dialogs.InputTransferFailed})
	if turn.Ended || turn.Reply.Expect.Kind != dialogs.ExpectSlot || !strings.Contains(strings.Join(turn.Lines, " "), "nie udało się połączyć") {
		t.Fatalf("after a failed transfer: %+v %v", turn.Reply.Expect, turn.Lines)
	}
	s, err := r.sessions.Load(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	if s.Termination != "" || !s.EndedAt.IsZero() {
		t.Fatalf("reopened call: termination %q ended %v", s.Termination, s.EndedAt)
	}
}

func TestUnknownCall(t *testing.T) {
	rdb, _, prefix := redistest.Mini(t)
	r := newRig(t, rdb, prefix, tuesday10, nil)
	if _, err := r.eng.Handle(context.Background(), "nope", keys("1")); !errors.Is(err, assistant.ErrUnknownCall) {
		t.Fatalf("err = %v", err)
	}
}

type nodeLog struct {
	mu    sync.Mutex
	nodes []string
}

func (n *nodeLog) ObserveNode(node string, d time.Duration, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if d < 0 || err != nil {
		node += "!"
	}
	n.nodes = append(n.nodes, node)
}

// The eino callbacks report each node of the turn graph.
func TestTurnGraphReportsNodeLatency(t *testing.T) {
	rdb, _, prefix := redistest.Mini(t)
	obs := &nodeLog{}
	r := assistanttest.New(t, rdb, prefix, assistanttest.Options{Observer: obs})
	if _, err := r.Engine.Start(context.Background(), assistant.Call{ID: "obs", Direction: "inbound", Leg: "chat"}); err != nil {
		t.Fatal(err)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	for _, want := range []string{"understand", "policy", "act", "turn"} {
		if !slices.Contains(obs.nodes, want) {
			t.Errorf("no latency for %s (got %v)", want, obs.nodes)
		}
	}
}
