package consultants

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"hotline/telephony"
	"hotline/telephony/telephonytest"
)

// pair is two instances of the service on one Redis (one prefix), both
// running, as behind a load balancer.
func pair(t *testing.T) (a, b *Service) {
	t.Helper()
	a, c := newService(t, Options{Poll: 10 * time.Millisecond, QueueTimeout: time.Minute})
	b = New(a.rdb, a.prefix, Options{Hours: always(t), Now: c.now, Poll: 10 * time.Millisecond, QueueTimeout: time.Minute}, nil)
	run(t, a)
	run(t, b)
	return a, b
}

// relayCall is one run of an AnswerHandler.
type relayCall struct {
	id, user, sdp string
	deadline      time.Time
}

// localAnswer is what the console registers, reduced to the queue's
// steps: Answer, a (fake) leg for the browser's offer, Connect.
func localAnswer(s *Service, calls chan<- relayCall, legs chan<- telephony.Leg) AnswerHandler {
	return func(ctx context.Context, id, user, sdp string) (string, error) {
		d, _ := ctx.Deadline()
		calls <- relayCall{id, user, sdp, d}
		if err := s.Answer(ctx, id, user); err != nil {
			return "", err
		}
		leg := telephonytest.NewLeg(telephony.LegInfo{ID: "console-relayed", Type: "webrtc"})
		if err := s.Connect(ctx, id, user, leg); err != nil {
			return "", fmt.Errorf("%w: %v", ErrNotWaiting, err)
		}
		legs <- leg
		return "v=0\r\nanswer from the caller's instance", nil
	}
}

// knownEvents are the types Subscribe may deliver.
var knownEvents = map[string]bool{
	EventPresence: true, EventQueued: true, EventOffer: true, EventOfferCancelled: true,
	EventConnected: true, EventBack: true, EventHangup: true, EventEnded: true,
}

// untilEvent reads ch until an event of type typ, failing on any event
// that is not a queue event (a relayed request fanned out to listeners
// would show up as one, SDP and all).
func untilEvent(t *testing.T, ch <-chan Event, typ string) Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-ch:
			if !knownEvents[ev.Type] {
				t.Fatalf("a listener got %+v: not a queue event", ev)
			}
			if ev.Type == typ {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event", typ)
		}
	}
}

// TestRelayAnswerToTheCallersInstance: a caller waits on instance A; the
// consultant's console talks to B, where Answer says the call is
// elsewhere; B relays the browser's offer, A's handler answers with the
// very offer and connects its leg to the caller, and B gets A's SDP. A
// second answer is refused as not offered. No listener on either
// instance ever sees the relayed request.
func TestRelayAnswerToTheCallersInstance(t *testing.T) {
	ctx := t.Context()
	a, b := pair(t)
	aCalls, bCalls := make(chan relayCall, 4), make(chan relayCall, 4)
	legs := make(chan telephony.Leg, 4)
	a.HandleAnswers(localAnswer(a, aCalls, legs))
	b.HandleAnswers(localAnswer(b, bCalls, legs))
	aEvents, stopA := a.Subscribe()
	defer stopA()
	bEvents, stopB := b.Subscribe()
	defer stopB()

	type waited struct {
		leg telephony.Leg
		err error
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan waited, 1)
	go func() {
		leg, _, err := a.Wait(wctx, tc("call-r1"), func(int) {})
		done <- waited{leg, err}
	}()
	defer func() { cancel(); <-done }()
	untilEvent(t, bEvents, EventQueued)
	if _, err := b.SetPresence(ctx, "ala", "Ala", Available); err != nil {
		t.Fatal(err)
	}
	if offer := untilEvent(t, bEvents, EventOffer); offer.CallID != "call-r1" || offer.User != "ala" {
		t.Fatalf("offer %+v", offer)
	}
	if err := b.Answer(ctx, "call-r1", "ala"); !errors.Is(err, ErrElsewhere) {
		t.Fatalf("answer on B: %v, want ErrElsewhere", err)
	}

	const offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nthe browser's offer"
	start := time.Now()
	got, err := b.RelayAnswer(ctx, "call-r1", "ala", offer, 4*time.Second)
	if err != nil || got != "v=0\r\nanswer from the caller's instance" {
		t.Fatalf("relayed answer %q, %v", got, err)
	}
	call := <-aCalls
	if call.id != "call-r1" || call.user != "ala" || call.sdp != offer {
		t.Fatalf("A's handler got %+v", call)
	}
	// A's work ends before B stops waiting, with time left for its reply.
	if call.deadline.IsZero() || !call.deadline.Before(start.Add(4*time.Second)) {
		t.Errorf("A's handler deadline %v, want before B's wait ends (%v)", call.deadline, start.Add(4*time.Second))
	}
	select {
	case c := <-bCalls:
		t.Fatalf("B's handler ran for a caller it does not hold: %+v", c)
	default:
	}
	leg := <-legs
	if w := <-done; w.err != nil || w.leg != leg {
		t.Fatalf("the caller on A got %v, %v", w.leg, w.err)
	}
	done <- waited{}
	if rec, err := b.Call(ctx, "call-r1"); err != nil || rec.State != CallConnected || rec.Consultant != "ala" {
		t.Fatalf("record %+v %v", rec, err)
	}
	// The connected event comes after the request on the same
	// subscription: had the request been fanned out, it came first.
	untilEvent(t, aEvents, EventConnected)
	untilEvent(t, bEvents, EventConnected)

	// A second answer for the same call: refused on B at once, and (had
	// it raced the first) by A's handler, relayed back as not offered.
	if err := b.Answer(ctx, "call-r1", "ala"); !errors.Is(err, ErrNotOffered) {
		t.Fatalf("second answer on B: %v", err)
	}
	if _, err := b.RelayAnswer(ctx, "call-r1", "ala", offer, 4*time.Second); !errors.Is(err, ErrNotOffered) {
		t.Fatalf("second relayed answer: %v, want ErrNotOffered", err)
	}
	<-aCalls
	a.Finish(ctx, "call-r1", "hangup")
}

// TestRelayAnswerErrorKinds: the handler's failure reaches the asking
// instance as the same sentinel (the console maps each to its HTTP
// code); anything else is ErrUnavailable.
func TestRelayAnswerErrorKinds(t *testing.T) {
	ctx := t.Context()
	a, b := pair(t)
	for i, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"not offered", ErrNotOffered, ErrNotOffered},
		{"not waiting", fmt.Errorf("%w: hung up", ErrNotWaiting), ErrNotWaiting},
		{"waiter gone", ErrElsewhere, ErrNotWaiting},
		{"offer refused", fmt.Errorf("%w: no audio", ErrOfferRefused), ErrOfferRefused},
		{"unavailable", ErrUnavailable, ErrUnavailable},
		{"anything else", errors.New("redis: connection refused"), ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("call-k%d", i)
			a.mu.Lock()
			a.waiters[id] = &waiter{id: id, leg: make(chan telephony.Leg, 1), back: make(chan struct{})}
			a.mu.Unlock()
			defer a.forget(id)
			a.HandleAnswers(func(context.Context, string, string, string) (string, error) { return "", tc.err })
			_, err := b.RelayAnswer(ctx, id, "ala", "v=0\r\n", 4*time.Second)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestRelayAnswerTimesOut: with no instance both holding the caller and
// handling answers, the asker gives up after its timeout with
// ErrNoInstance.
func TestRelayAnswerTimesOut(t *testing.T) {
	ctx := t.Context()
	for _, tc := range []struct {
		name    string
		waiting bool // the caller waits on A
		handler bool // A handles relayed answers
	}{
		{"no handler on the caller's instance", true, false},
		{"the caller waits nowhere", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pair(t)
			calls := make(chan relayCall, 1)
			if tc.handler {
				a.HandleAnswers(func(_ context.Context, id, user, sdp string) (string, error) {
					calls <- relayCall{id: id, user: user, sdp: sdp}
					return "v=0\r\n", nil
				})
			}
			if tc.waiting {
				a.mu.Lock()
				a.waiters["call-t"] = &waiter{id: "call-t", leg: make(chan telephony.Leg, 1), back: make(chan struct{})}
				a.mu.Unlock()
				defer a.forget("call-t")
			}
			start := time.Now()
			_, err := b.RelayAnswer(ctx, "call-t", "ala", "v=0\r\n", time.Second)
			if !errors.Is(err, ErrNoInstance) {
				t.Fatalf("got %v, want ErrNoInstance", err)
			}
			if el := time.Since(start); el < time.Second {
				t.Errorf("gave up after %v, before its timeout", el)
			}
			select {
			case c := <-calls:
				t.Fatalf("a handler ran: %+v", c)
			default:
			}
		})
	}
}
