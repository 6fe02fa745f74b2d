package consultants

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/redistest"
	"hotline/telephony"
)

// TestQueueOnRedisCluster runs the queue on a real three-master Redis
// Cluster under a hash-tagged prefix, two instances with a cluster client
// each. The scripts that build keys from their arguments (claim, requeue,
// end: the call and presence keys of whichever caller or consultant they
// find) are the ones a cluster could refuse; they stay legal because every
// key shares the prefix's slot. A caller on A is offered to a consultant
// set available on B (Pub/Sub), answered through B by a relayed answer
// (Pub/Sub and BLPOP) and finished; a second caller's offer is missed, so
// the caller is requeued and the consultant set away.
func TestQueueOnRedisCluster(t *testing.T) {
	ctx := t.Context()
	cl := redistest.StartCluster(t, 3)
	const prefix = "{hotline}:"
	c := newClock()
	opt := Options{Hours: always(t), Now: c.now, Poll: 10 * time.Millisecond, QueueTimeout: time.Minute, RingTimeout: time.Second}
	a, b := New(cl.Client(), prefix, opt, nil), New(cl.Client(), prefix, opt, nil)
	if _, ok := a.rdb.(*redis.ClusterClient); !ok {
		t.Fatalf("not a cluster client: %T", a.rdb)
	}
	run(t, a)
	run(t, b)
	calls, legs := make(chan relayCall, 4), make(chan telephony.Leg, 4)
	a.HandleAnswers(localAnswer(a, calls, legs))
	bEvents, stop := b.Subscribe()
	defer stop()

	type waited struct {
		leg telephony.Leg
		err error
	}
	wait := func(ctx context.Context, id string) <-chan waited {
		done := make(chan waited, 1)
		go func() {
			leg, _, err := a.Wait(ctx, tc(id), func(int) {})
			done <- waited{leg, err}
		}()
		return done
	}
	done := wait(ctx, "call-c1")
	untilEvent(t, bEvents, EventQueued)
	if _, err := b.SetPresence(ctx, "ala", "Ala", Available); err != nil {
		t.Fatal(err)
	}
	if offer := untilEvent(t, bEvents, EventOffer); offer.CallID != "call-c1" || offer.User != "ala" {
		t.Fatalf("offer %+v", offer)
	}
	if _, err := b.RelayAnswer(ctx, "call-c1", "ala", "v=0\r\nthe browser's offer", 4*time.Second); err != nil {
		t.Fatalf("relayed answer: %v", err)
	}
	<-calls
	if w := <-done; w.err != nil || w.leg != <-legs {
		t.Fatalf("the caller on A got %v, %v", w.leg, w.err)
	}
	if p, err := b.PresenceOf(ctx, "ala"); err != nil || p.State != Busy || p.Call != "call-c1" {
		t.Fatalf("presence while connected %+v %v", p, err)
	}
	a.Finish(ctx, "call-c1", "hangup")
	if p, err := b.PresenceOf(ctx, "ala"); err != nil || p.State != Available {
		t.Fatalf("presence after the call %+v %v", p, err)
	}

	// The next caller's offer is not answered: back in the queue, the
	// consultant away.
	wctx, cancel := context.WithCancel(ctx)
	done = wait(wctx, "call-c2")
	if offer := untilEvent(t, bEvents, EventOffer); offer.CallID != "call-c2" {
		t.Fatalf("offer %+v", offer)
	}
	c.advance(2 * time.Second)
	if ev := untilEvent(t, bEvents, EventOfferCancelled); ev.Outcome != "missed" {
		t.Fatalf("cancel %+v", ev)
	}
	if p, err := b.PresenceOf(ctx, "ala"); err != nil || p.State != Away {
		t.Fatalf("after a missed offer %+v %v", p, err)
	}
	if n, err := b.Position(ctx, "call-c2"); err != nil || n != 1 {
		t.Fatalf("requeued at %d (%v), want 1", n, err)
	}
	cancel()
	if w := <-done; !errors.Is(w.err, context.Canceled) {
		t.Fatalf("wait after the caller left: %v", w.err)
	}
	a.Finish(ctx, "call-c2", "hangup")
	if n, _ := b.Position(ctx, "call-c2"); n != 0 {
		t.Fatalf("still queued at %d", n)
	}
}
