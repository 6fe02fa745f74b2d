package outbound

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"hotline/assistant/callbacks"
	"hotline/assistant/redistest"
	"hotline/assistant/telemetry"
	"hotline/assistant/telemetry/telemetrytest"
	"hotline/telephony"
	"hotline/telephony/sipgw"
)

var _ Observer = (*telemetry.Metrics)(nil)
var _ telemetry.DueReader = (*Scheduler)(nil)

// TestWorkerMetrics runs one dialer pass on real Redis over a callback,
// a campaign attempt, two one-off dials and a do-not-call number: the
// due gauge counts what has come due (not what is scheduled later),
// every attempt is counted by kind and outcome, the refusal by rule,
// and the in-flight gauge is up during the calls and back to 0 after.
func TestWorkerMetrics(t *testing.T) {
	rdb, prefix := redistest.Real(t)
	ctx := t.Context()
	clk := newClock(wt(2026, 3, 3, 9, 0)) // a Tuesday
	cbs := newCallbacks(t, rdb, prefix, clk)
	sched := NewScheduler(rdb, prefix, cbs, SchedulerConfig{Now: clk.Now})
	gate := newGate(t, rdb, prefix, GateConfig{})
	reg := prometheus.NewPedanticRegistry()
	m := telemetry.New(reg)
	m.WatchDue(sched)

	due := func(kind string) float64 { return telemetrytest.Must(t, reg, "hotline_outbound_due", "kind", kind) }
	ten := wt(2026, 3, 3, 10, 0)
	if _, err := cbs.Schedule(ctx, callbacks.Request{Phone: "+48600100200", At: ten}); err != nil {
		t.Fatal(err)
	}
	for _, j := range []Job{
		{CaseNumber: "1", Phone: "+48600000001"},                   // manual: the runner says wrong party
		{CaseNumber: "2", Phone: "+48600000002", CampaignID: "c1"}, // campaign: busy
		{CaseNumber: "3", Phone: "+48600000003"},                   // manual: do-not-call
	} {
		if _, err := sched.Enqueue(ctx, j, ten); err != nil {
			t.Fatal(err)
		}
	}
	if err := gate.MarkDNC(ctx, "+48600000003"); err != nil {
		t.Fatal(err)
	}
	if cb, at := due("callback"), due("attempt"); cb != 0 || at != 0 {
		t.Fatalf("due before their time: callback %v attempt %v", cb, at)
	}
	clk.Set(ten)
	if cb, at := due("callback"), due("attempt"); cb != 1 || at != 3 {
		t.Fatalf("due at 10:00: callback %v attempt %v, want 1 and 3", cb, at)
	}

	var peak atomic.Int64
	runner := runnerFunc(func(_ context.Context, _ telephony.Leg, j Job) (Outcome, error) {
		if v := telemetrytest.Must(t, reg, "hotline_outbound_calls_in_flight"); int64(v) > peak.Load() {
			peak.Store(int64(v))
		}
		if j.Kind == KindCallback {
			return OutcomeRightParty, nil
		}
		return OutcomeWrongParty, nil
	})
	dialer := newFakeDialer()
	dialer.result = func(_ context.Context, target string) error {
		if strings.Contains(target, "+48600000002") {
			return &sipgw.DialError{StatusCode: 486, Reason: "Busy Here"}
		}
		return nil
	}
	w, err := NewWorker(WorkerConfig{MaxConcurrent: 10, CPS: -1, Target: "sip:{phone}@trunk", Now: clk.Now, Observer: m},
		WorkerDeps{Scheduler: sched, Gate: gate, Ledger: NewLedger(rdb, prefix), Dialer: dialer, Runner: runner})
	if err != nil {
		t.Fatal(err)
	}
	w.pass(ctx, ctx)
	w.wg.Wait()

	for _, c := range []struct {
		kind, outcome string
		want          float64
	}{
		{"callback", string(OutcomeRightParty), 1},
		{"manual", string(OutcomeWrongParty), 1},
		{"campaign", string(OutcomeBusy), 1},
		{"manual", string(OutcomeRefused), 1},
	} {
		if got := telemetrytest.Must(t, reg, "hotline_outbound_attempts_total", "kind", c.kind, "outcome", c.outcome); got != c.want {
			t.Errorf("attempts{kind=%s,outcome=%s} = %v, want %v", c.kind, c.outcome, got, c.want)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "hotline_outbound_attempts_total"); err != nil || n != 4 {
		t.Errorf("%d attempt series (%v), want 4", n, err)
	}
	if got := telemetrytest.Must(t, reg, "hotline_outbound_gate_refusals_total", "rule", RuleDNC); got != 1 {
		t.Errorf("refusals{do_not_call} = %v", got)
	}
	if p := peak.Load(); p < 1 {
		t.Errorf("in-flight gauge during calls peaked at %d", p)
	}
	if v := telemetrytest.Must(t, reg, "hotline_outbound_calls_in_flight"); v != 0 {
		t.Errorf("in flight after the pass = %v", v)
	}
	// The retried attempts are due again at 10:15, not now; the rest are done.
	if cb, at := due("callback"), due("attempt"); cb != 0 || at != 0 {
		t.Errorf("due after the pass: callback %v attempt %v", cb, at)
	}
	clk.Add(15 * time.Minute)
	if at := due("attempt"); at != 2 {
		t.Errorf("due at 10:15: %v attempts, want the 2 retries", at)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}
