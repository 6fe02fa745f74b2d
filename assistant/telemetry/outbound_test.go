package telemetry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"hotline/assistant/telemetry/telemetrytest"
)

// dueFunc and queueFunc adapt functions to the readers.
type dueFunc func(ctx context.Context) (int64, int64, error)

func (f dueFunc) Due(ctx context.Context) (int64, int64, error) { return f(ctx) }

type queueFunc func(ctx context.Context) (int64, map[string]int64, error)

func (f queueFunc) QueueStats(ctx context.Context) (int64, map[string]int64, error) { return f(ctx) }

// TestStoreGauges: the Redis-backed gauges are read per scrape; a reader
// that fails, or hangs past the scrape's bound, leaves its series out
// while the scrape (and the other reader's series) still succeed.
func TestStoreGauges(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := New(reg)
	if n, err := testutil.GatherAndCount(reg, "hotline_outbound_due", "hotline_consultant_queue_length", "hotline_consultants"); err != nil || n != 0 {
		t.Fatalf("series without readers: %d %v", n, err)
	}
	var due, waiting int64 = 3, 2
	m.WatchDue(dueFunc(func(context.Context) (int64, int64, error) { return due, 7, nil }))
	m.WatchQueue(queueFunc(func(context.Context) (int64, map[string]int64, error) {
		return waiting, map[string]int64{"available": 1, "busy": 2, "away": 0, "offline": 4}, nil
	}))
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"hotline_outbound_due", []string{"kind", "callback"}, 3},
		{"hotline_outbound_due", []string{"kind", "attempt"}, 7},
		{"hotline_consultant_queue_length", nil, 2},
		{"hotline_consultants", []string{"state", "busy"}, 2},
		{"hotline_consultants", []string{"state", "away"}, 0},
		{"hotline_consultants", []string{"state", "offline"}, 4},
	} {
		if got := telemetrytest.Must(t, reg, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	due, waiting = 0, 5 // read again at the next scrape
	if got := telemetrytest.Must(t, reg, "hotline_outbound_due", "kind", "callback"); got != 0 {
		t.Errorf("due not re-read: %v", got)
	}
	if got := telemetrytest.Must(t, reg, "hotline_consultant_queue_length"); got != 5 {
		t.Errorf("queue not re-read: %v", got)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}

	// Redis down: the due read fails, the queue read hangs until the
	// scrape's deadline.
	m.WatchDue(dueFunc(func(context.Context) (int64, int64, error) { return 0, 0, errors.New("connection refused") }))
	m.WatchQueue(queueFunc(func(ctx context.Context) (int64, map[string]int64, error) {
		<-ctx.Done()
		return 0, nil, ctx.Err()
	}))
	start := time.Now()
	n, err := testutil.GatherAndCount(reg, "hotline_outbound_due", "hotline_consultant_queue_length", "hotline_consultants")
	if err != nil || n != 0 {
		t.Errorf("series from failed reads: %d %v", n, err)
	}
	if d := time.Since(start); d > 5*storeTimeout {
		t.Errorf("a hanging reader held the scrape %v", d)
	}
}

// TestOutboundObservations: attempts by kind and outcome, refusals by
// rule (also counted as refused-by-gate attempts), the in-flight gauge
// and queue waits by result.
func TestOutboundObservations(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := New(reg)
	m.ObserveAttempt(KindCallback, "answered-right-party")
	m.ObserveAttempt(KindCampaign, "no-answer")
	m.ObserveAttempt(KindCampaign, "no-answer")
	m.ObserveRefusal(KindManual, "weekly_cap")
	m.ObserveDialling(1)
	m.ObserveDialling(1)
	m.ObserveDialling(-1)
	m.ObserveQueueWait(WaitAnswered, 3*time.Second)
	m.ObserveQueueWait(WaitTimeout, 60*time.Second)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"hotline_outbound_attempts_total", []string{"kind", "callback", "outcome", "answered-right-party"}, 1},
		{"hotline_outbound_attempts_total", []string{"kind", "campaign", "outcome", "no-answer"}, 2},
		{"hotline_outbound_attempts_total", []string{"kind", "manual", "outcome", "refused-by-gate"}, 1},
		{"hotline_outbound_gate_refusals_total", []string{"rule", "weekly_cap"}, 1},
		{"hotline_outbound_calls_in_flight", nil, 1},
		{"hotline_consultant_queue_wait_seconds", []string{"result", "answered"}, 1},
		{"hotline_consultant_queue_wait_seconds", []string{"result", "timeout"}, 1},
	} {
		if got := telemetrytest.Must(t, reg, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// A nil *Metrics records nothing and does not panic.
	var none *Metrics
	none.ObserveAttempt(KindCallback, "busy")
	none.ObserveRefusal(KindCallback, "do_not_call")
	none.ObserveDialling(1)
	none.ObserveQueueWait(WaitAbandoned, time.Second)
	none.WatchDue(nil)
	none.WatchQueue(nil)
}
