package outbound

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hotline/assistant/callbacks"
	"hotline/assistant/redistest"
	"hotline/telephony"
)

// TestExactlyOnceTwoInstances is the acceptance test of the scheduler on
// a real Redis: 1 000 due callbacks, two dialer instances; one is killed
// (cancelled) mid-way, and a third instance dies right after claiming a
// batch without ever dialling it. Every callback is dialled exactly once
// and none is lost: the dead claims come back when their lease lapses.
func TestExactlyOnceTwoInstances(t *testing.T) {
	rdb, prefix := redistest.Real(t)
	ctx := t.Context()
	const total = 1000
	clk := newClock(wt(2026, 3, 2, 9, 0)) // Monday
	cbs := newCallbacks(t, rdb, prefix, clk)
	slot := wt(2026, 3, 3, 10, 0) // Tuesday
	phones := make([]string, total)
	for i := range total {
		phones[i] = fmt.Sprintf("+4860%07d", i)
		if _, err := cbs.Schedule(ctx, callbacks.Request{Phone: phones[i], At: slot}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Set(slot.Add(5 * time.Minute))

	gate := newGate(t, rdb, prefix, GateConfig{})
	ledger := NewLedger(rdb, prefix)
	dialer := newFakeDialer()
	var inRunner, maxInRunner atomic.Int64
	runner := runnerFunc(func(ctx context.Context, _ telephony.Leg, _ Job) (Outcome, error) {
		n := inRunner.Add(1)
		defer inRunner.Add(-1)
		for {
			m := maxInRunner.Load()
			if n <= m || maxInRunner.CompareAndSwap(m, n) {
				break
			}
		}
		return OutcomeRightParty, nil
	})
	newWorker := func(owner string, lease time.Duration) (*Worker, *Scheduler) {
		s := NewScheduler(rdb, prefix, cbs, SchedulerConfig{Owner: owner, Lease: lease, Now: clk.Now})
		w, err := NewWorker(WorkerConfig{MaxConcurrent: 8, CPS: -1, Poll: 2 * time.Millisecond, Now: clk.Now, Target: "sip:{phone}@trunk"},
			WorkerDeps{Scheduler: s, Gate: gate, Ledger: ledger, Dialer: dialer, Runner: runner})
		if err != nil {
			t.Fatal(err)
		}
		return w, s
	}

	// The instance that dies holding claims (lease 1s on the injected clock).
	_, dead := newWorker("dead", time.Second)
	deadJobs, err := dead.Claim(ctx, 100)
	if err != nil || len(deadJobs) != 100 {
		t.Fatalf("dead instance claimed %d: %v", len(deadJobs), err)
	}

	wa, _ := newWorker("a", time.Hour)
	wb, _ := newWorker("b", time.Hour)
	ctxA, stopA := context.WithCancel(ctx)
	ctxB, stopB := context.WithCancel(ctx)
	defer stopA()
	defer stopB()
	var dials atomic.Int64
	var once sync.Once
	dialer.onDial = func(string) {
		// Kill B once 300 calls (by either instance) went out.
		if dials.Add(1) == 300 {
			once.Do(stopB)
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = wa.Run(ctxA) })
	wg.Go(func() { _ = wb.Run(ctxB) })

	eventually(t, 60*time.Second, "900 dials before the dead claims lapse", func() bool { return dialer.total() >= total-100 })
	if dialer.total() > total-100 {
		t.Fatalf("%d dials while 100 jobs were held by a dead instance", dialer.total())
	}
	clk.Add(2 * time.Second) // the dead instance's leases lapse
	eventually(t, 60*time.Second, "all callbacks dialled", func() bool { return dialer.total() >= total })
	eventually(t, 10*time.Second, "nothing pending or in flight", func() bool {
		p, err1 := dead.Pending(ctx)
		f, err2 := dead.InFlight(ctx)
		return err1 == nil && err2 == nil && p == 0 && f == 0
	})
	stopA()
	wg.Wait()

	for _, p := range phones {
		if n := dialer.count("sip:" + p + "@trunk"); n != 1 {
			t.Errorf("%s…: dialled %d times", p[:6], n)
		}
	}
	if got := dialer.total(); got != total {
		t.Errorf("%d dials in all, want %d", got, total)
	}
	if m := maxInRunner.Load(); m > 16 {
		t.Errorf("%d calls at once, above 2×MaxConcurrent", m)
	}
	outcomes := 0
	if err := ledger.Each(ctx, time.Time{}, time.Time{}, func(e Entry) error {
		if e.Event == EventOutcome {
			outcomes++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if outcomes != total {
		t.Errorf("ledger has %d outcomes, want %d", outcomes, total)
	}
	done := 0
	list, err := rdb.Keys(ctx, prefix+callbacks.KeyCallback+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range list {
		cb, err := cbs.Get(ctx, k[len(prefix+callbacks.KeyCallback):])
		if err == nil && cb.Status == StatusDone && cb.Attempts == 1 {
			done++
		}
	}
	if done != total {
		t.Errorf("%d callback records done with one attempt, want %d", done, total)
	}
}
