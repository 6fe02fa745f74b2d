package consultants

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"hotline/assistant"
	"hotline/assistant/calendar"
	"hotline/assistant/redistest"
	"hotline/telephony"
	"hotline/telephony/telephonytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a settable time source (ms steps keep the queue order exact).
type clock struct{ ms atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ms.Store(time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC).UnixMilli())
	return c
}
func (c *clock) now() time.Time          { return time.UnixMilli(c.ms.Add(1)) }
func (c *clock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

type names map[string]string

func (n names) DebtorName(_ context.Context, c string) (string, error) { return n[c], nil }

func always(t *testing.T) calendar.Hours {
	t.Helper()
	h, err := calendar.ParseHours(time.UTC, "mon-sun 00:00-24:00")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func newService(t *testing.T, opt Options) (*Service, *clock) {
	t.Helper()
	rdb, prefix := redistest.Real(t)
	c := newClock()
	if opt.Now == nil {
		opt.Now = c.now
	}
	if opt.Hours.IsZero() {
		opt.Hours = always(t)
	}
	return New(rdb, prefix, opt, nil), c
}

// run starts s.Run for the test.
func run(t *testing.T, s *Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-s.Ready():
	case <-done:
		t.Fatal("Run ended")
	}
}

func tc(id string) *assistant.TransferContext {
	return &assistant.TransferContext{CallID: id, Reason: "caller_request", Verified: true, CaseNumber: "1234567"}
}

func TestPresenceAndAvailable(t *testing.T) {
	ctx := t.Context()
	closed, err := calendar.ParseHours(time.UTC, "mon-fri 09:00-10:00")
	if err != nil {
		t.Fatal(err)
	}
	s, c := newService(t, Options{PresenceTTL: 300 * time.Millisecond})
	if s.Available(ctx, c.now()) {
		t.Fatal("available with nobody present and no queue allowed")
	}
	if _, err := s.SetPresence(ctx, "ala", "Ala", Available); err != nil {
		t.Fatal(err)
	}
	if !s.Available(ctx, c.now()) {
		t.Fatal("not available with a consultant available")
	}
	off := New(s.rdb, s.prefix, Options{Hours: closed, QueueWithoutConsultants: true, Now: c.now}, nil)
	if off.Available(ctx, time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)) {
		t.Fatal("available outside hours")
	}
	queued := New(s.rdb, s.prefix+"other:", Options{Hours: always(t), QueueWithoutConsultants: true, Now: c.now}, nil)
	if !queued.Available(ctx, c.now()) {
		t.Fatal("queue allowed but not available")
	}
	if _, err := s.SetPresence(ctx, "ala", "Ala", "lunch"); !errors.Is(err, ErrBadState) {
		t.Fatalf("bad state: %v", err)
	}
	// Without heartbeats the presence expires: offline.
	deadline := time.Now().Add(5 * time.Second)
	for {
		p, err := s.PresenceOf(ctx, "ala")
		if err != nil {
			t.Fatal(err)
		}
		if p.State == Offline {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("presence did not expire: %+v", p)
		}
		if err := s.rdb.Ping(ctx).Err(); err != nil { // a round trip, not a sleep
			t.Fatal(err)
		}
	}
}

// TestClaimRace: two instances dispatch at once for the same consultants;
// every caller is offered exactly once, each consultant gets one caller,
// and the callers offered are the longest-waiting ones.
func TestClaimRace(t *testing.T) {
	ctx := t.Context()
	a, c := newService(t, Options{})
	b := New(a.rdb, a.prefix, Options{Hours: always(t), Now: c.now}, nil)
	const callers, consultants = 30, 12
	for i := range callers {
		if err := a.enqueue(ctx, tc(fmt.Sprintf("call-%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range consultants {
		if _, err := a.setPresenceQuiet(ctx, fmt.Sprintf("user-%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	got := map[string]string{} // call → user
	var wg sync.WaitGroup
	for _, s := range []*Service{a, b, a, b} {
		for i := range consultants {
			user := fmt.Sprintf("user-%02d", i)
			wg.Go(func() {
				id, err := s.Claim(ctx, user)
				if err != nil || id == "" {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if prev, dup := got[id]; dup {
					t.Errorf("%s claimed twice: %s and %s", id, prev, user)
				}
				got[id] = user
			})
		}
	}
	wg.Wait()
	if len(got) != consultants {
		t.Fatalf("claimed %d callers, want %d: %v", len(got), consultants, got)
	}
	users := map[string]bool{}
	for i := range consultants {
		id := fmt.Sprintf("call-%02d", i)
		u, ok := got[id]
		if !ok {
			t.Errorf("%s (among the longest waiting) not claimed", id)
		}
		if users[u] {
			t.Errorf("%s got two callers", u)
		}
		users[u] = true
		rec, err := a.Call(ctx, id)
		if err != nil || rec.State != CallOffered || rec.Consultant != u {
			t.Errorf("%s record %+v %v", id, rec, err)
		}
	}
	if n, _ := a.Position(ctx, fmt.Sprintf("call-%02d", consultants)); n != 1 {
		t.Errorf("next caller's position %d, want 1", n)
	}
}

// setPresenceQuiet sets available without dispatching.
func (s *Service) setPresenceQuiet(ctx context.Context, user string) (string, error) {
	return setPresenceScript.Run(ctx, s.rdb, []string{s.presenceKey(user), s.prefix + keyUsers},
		user, string(Available), user, s.ms(s.opt.Now()), s.opt.PresenceTTL.Milliseconds()).Text()
}

// nextEvent waits for an event of type typ.
func nextEvent(t *testing.T, ch <-chan Event, typ string) Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-ch:
			if ev.Type == typ {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event", typ)
		}
	}
}

func TestWaitOfferAnswerConnect(t *testing.T) {
	ctx := t.Context()
	s, _ := newService(t, Options{Names: names{"1234567": "Jan Kowalski"}, Poll: 20 * time.Millisecond})
	run(t, s)
	events, stop := s.Subscribe()
	defer stop()
	if _, err := s.SetPresence(ctx, "ala", "Ala", Available); err != nil {
		t.Fatal(err)
	}
	type result struct {
		leg  telephony.Leg
		back <-chan struct{}
		err  error
	}
	res := make(chan result, 1)
	positions := make(chan int, 16)
	go func() {
		leg, back, err := s.Wait(ctx, tc("call-1"), func(n int) { positions <- n })
		res <- result{leg, back, err}
	}()
	offer := nextEvent(t, events, EventOffer)
	if offer.User != "ala" || offer.CallID != "call-1" || offer.Popup == nil {
		t.Fatalf("offer %+v", offer)
	}
	if p := offer.Popup; p.CaseNumber != "1234567" || p.DebtorName != "Jan Kowalski" || p.Verification != "verified" || p.Reason != "caller_request" {
		t.Fatalf("popup %+v", p)
	}
	if err := s.Answer(ctx, "call-1", "ola"); !errors.Is(err, ErrNotOffered) {
		t.Fatalf("another consultant answered: %v", err)
	}
	if err := s.Answer(ctx, "call-1", "ala"); err != nil {
		t.Fatal(err)
	}
	leg := telephonytest.NewLeg(telephony.LegInfo{ID: "console-1", Type: "webrtc"})
	if err := s.Connect(ctx, "call-1", "ala", leg); err != nil {
		t.Fatal(err)
	}
	r := <-res
	if r.err != nil || r.leg != leg {
		t.Fatalf("wait: %v %v", r.leg, r.err)
	}
	if p, _ := s.PresenceOf(ctx, "ala"); p.State != Busy || p.Call != "call-1" {
		t.Fatalf("presence while connected %+v", p)
	}
	// Back to the assistant: the caller's side sees the channel close.
	if err := s.Back(ctx, "call-1", "ola"); !errors.Is(err, ErrNotOffered) {
		t.Fatalf("back by another consultant: %v", err)
	}
	if err := s.Back(ctx, "call-1", "ala"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.back:
	case <-time.After(5 * time.Second):
		t.Fatal("back not signalled")
	}
	if _, err := s.AddNote(ctx, "call-1", "ala", "Dłużnik prosi o kontakt w piątek."); err != nil {
		t.Fatal(err)
	}
	s.Finish(ctx, "call-1", "back")
	rec, err := s.Record(ctx, "call-1")
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != CallEnded || rec.Outcome != "back" || len(rec.Notes) != 1 || rec.Notes[0].By != "ala" {
		t.Fatalf("record %+v", rec)
	}
	if p, _ := s.PresenceOf(ctx, "ala"); p.State != Available {
		t.Fatalf("presence after the call %+v", p)
	}
}

func TestWaitTimeoutAndMissedOffer(t *testing.T) {
	ctx := t.Context()
	s, clk := newService(t, Options{QueueTimeout: 400 * time.Millisecond, RingTimeout: time.Second, Poll: 10 * time.Millisecond})
	run(t, s)
	events, stop := s.Subscribe()
	defer stop()
	var positions []int
	var mu sync.Mutex
	done := make(chan error, 1)
	go func() {
		_, _, err := s.Wait(ctx, tc("call-2"), func(n int) { mu.Lock(); positions = append(positions, n); mu.Unlock() })
		done <- err
	}()
	nextEvent(t, events, EventQueued)
	// A consultant comes, is offered the caller, and does not answer.
	if _, err := s.SetPresence(ctx, "ala", "Ala", Available); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, events, EventOffer)
	clk.advance(2 * time.Second)
	ev := nextEvent(t, events, EventOfferCancelled)
	if ev.Outcome != "missed" {
		t.Fatalf("cancel %+v", ev)
	}
	if p, _ := s.PresenceOf(ctx, "ala"); p.State != Away {
		t.Fatalf("after a missed offer %+v", p)
	}
	if err := <-done; !errors.Is(err, ErrTimeout) {
		t.Fatalf("wait: %v", err)
	}
	rec, err := s.Call(ctx, "call-2")
	if err != nil || rec.State != CallEnded || rec.Outcome != "timeout" {
		t.Fatalf("record %+v %v", rec, err)
	}
	if n, _ := s.Position(ctx, "call-2"); n != 0 {
		t.Fatalf("still queued at %d", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(positions) == 0 || positions[0] != 1 {
		t.Fatalf("positions %v", positions)
	}
	b, err := s.Board(ctx)
	if err != nil || b.Queue != 0 || len(b.Calls) != 0 || len(b.Consultants) != 1 {
		t.Fatalf("board %+v %v", b, err)
	}
}
