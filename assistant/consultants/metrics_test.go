package consultants

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"hotline/assistant/telemetry"
	"hotline/assistant/telemetry/telemetrytest"
	"hotline/telephony"
	"hotline/telephony/telephonytest"
)

var (
	_ Observer              = (*telemetry.Metrics)(nil)
	_ telemetry.QueueReader = (*Service)(nil)
)

// TestQueueMetrics walks three callers through the queue on real Redis
// (one hangs up, one times out, one is answered) and reads the metrics
// a scrape would: the queue length and consultants by presence from
// Redis, the waits by result.
func TestQueueMetrics(t *testing.T) {
	ctx := t.Context()
	reg := prometheus.NewPedanticRegistry()
	m := telemetry.New(reg)
	s, _ := newService(t, Options{QueueTimeout: time.Hour, Poll: 10 * time.Millisecond, Observer: m})
	run(t, s)
	m.WatchQueue(s)
	events, stop := s.Subscribe()
	defer stop()

	gauge := func(name string, labels ...string) float64 { return telemetrytest.Must(t, reg, name, labels...) }
	waits := func(result string) float64 {
		v, _ := telemetrytest.Value(t, reg, "hotline_consultant_queue_wait_seconds", "result", result)
		return v
	}
	if _, err := s.SetPresence(ctx, "ola", "Ola", Away); err != nil {
		t.Fatal(err)
	}
	if q, away, avail := gauge("hotline_consultant_queue_length"), gauge("hotline_consultants", "state", "away"),
		gauge("hotline_consultants", "state", "available"); q != 0 || away != 1 || avail != 0 {
		t.Fatalf("idle: queue %v away %v available %v", q, away, avail)
	}

	// A caller queues with nobody available, then hangs up.
	wctx, hangup := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { _, _, err := s.Wait(wctx, tc("call-a"), func(int) {}); done <- err }()
	nextEvent(t, events, EventQueued)
	if q := gauge("hotline_consultant_queue_length"); q != 1 {
		t.Fatalf("queue length with one caller = %v", q)
	}
	hangup()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned wait: %v", err)
	}
	if n := waits(WaitAbandoned); n != 1 {
		t.Fatalf("abandoned waits = %v", n)
	}
	if q := gauge("hotline_consultant_queue_length"); q != 0 {
		t.Fatalf("queue length after the hang-up = %v", q)
	}

	// Another service on the same Redis with a short timeout: a caller
	// nobody takes.
	short := New(s.rdb, s.prefix, Options{Hours: s.opt.Hours, QueueTimeout: 50 * time.Millisecond, Poll: 10 * time.Millisecond, Observer: m}, nil)
	if _, _, err := short.Wait(ctx, tc("call-b"), func(int) {}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("timed-out wait: %v", err)
	}
	if n := waits(WaitTimeout); n != 1 {
		t.Fatalf("timed-out waits = %v", n)
	}

	// A consultant comes and answers the third caller.
	go func() {
		_, _, err := s.Wait(ctx, tc("call-c"), func(int) {})
		done <- err
	}()
	nextEvent(t, events, EventQueued)
	if _, err := s.SetPresence(ctx, "ala", "Ala", Available); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, events, EventOffer)
	if busy := gauge("hotline_consultants", "state", "busy"); busy != 1 {
		t.Fatalf("busy consultants while ringing = %v", busy)
	}
	if err := s.Answer(ctx, "call-c", "ala"); err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(ctx, "call-c", "ala", telephonytest.NewLeg(telephony.LegInfo{ID: "console-c", Type: "webrtc"})); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("answered wait: %v", err)
	}
	if n := waits(WaitAnswered); n != 1 {
		t.Fatalf("answered waits = %v", n)
	}
	s.Finish(ctx, "call-c", "done")
	if avail, busy := gauge("hotline_consultants", "state", "available"), gauge("hotline_consultants", "state", "busy"); avail != 1 || busy != 0 {
		t.Fatalf("after the call: available %v busy %v", avail, busy)
	}
	if n, err := testutil.GatherAndCount(reg, "hotline_consultant_queue_wait_seconds"); err != nil || n != 3 {
		t.Errorf("wait series = %d (%v), want answered, timeout, abandoned", n, err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}
