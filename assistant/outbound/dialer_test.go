package outbound

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"hotline/assistant/redistest"
	"hotline/telephony"
	"hotline/telephony/sipgw"
)

// rig is one dialer instance on miniredis, stepped by hand.
type rig struct {
	t      *testing.T
	clk    *clock
	sched  *Scheduler
	gate   *Gate
	ledger *Ledger
	camps  *Campaigns
	dialer *fakeDialer
	phones phonesMap
	w      *Worker
}

func newRig(t *testing.T, runner Runner, cfg WorkerConfig) *rig {
	t.Helper()
	rdb, _, prefix := redistest.Mini(t)
	r := &rig{t: t, clk: newClock(wt(2026, 3, 3, 10, 0)), dialer: newFakeDialer(), phones: phonesMap{"777": "+48600700700"}}
	r.sched = NewScheduler(rdb, prefix, nil, SchedulerConfig{Now: r.clk.Now})
	r.gate = newGate(t, rdb, prefix, GateConfig{})
	r.ledger = NewLedger(rdb, prefix)
	r.camps = NewCampaigns(rdb, prefix, r.sched, warsaw, r.clk.Now)
	if runner == nil {
		runner = runnerFunc(answerRight)
	}
	cfg.Now, cfg.CPS = r.clk.Now, -1
	if cfg.Target == "" {
		cfg.Target = "sip:{phone}@trunk"
	}
	w, err := NewWorker(cfg, WorkerDeps{Scheduler: r.sched, Gate: r.gate, Ledger: r.ledger, Campaigns: r.camps,
		Dialer: r.dialer, Runner: runner, Phones: r.phones})
	if err != nil {
		t.Fatal(err)
	}
	r.w = w
	return r
}

// step runs one pass and waits for the jobs it started.
func (r *rig) step() {
	ctx := r.t.Context()
	r.w.pass(ctx, ctx)
	r.w.wg.Wait()
}

func (r *rig) enqueue(j Job) Job {
	r.t.Helper()
	j, err := r.sched.Enqueue(r.t.Context(), j, r.clk.Now())
	if err != nil {
		r.t.Fatal(err)
	}
	return j
}

func (r *rig) job(id string) Job {
	r.t.Helper()
	j, err := r.sched.Get(r.t.Context(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return j
}

func (r *rig) entries(cn string) []Entry {
	r.t.Helper()
	es, err := r.ledger.ByCase(r.t.Context(), cn, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	return es
}

func (r *rig) dueAt(id string) time.Time {
	r.t.Helper()
	s, err := r.sched.rdb.ZScore(r.t.Context(), r.sched.dueKey(), id).Result()
	if err != nil {
		r.t.Fatalf("job not due: %v", err)
	}
	return time.Unix(int64(s), 0)
}

func TestWorkerOutcomes(t *testing.T) {
	busy := &sipgw.DialError{StatusCode: 486, Reason: "Busy Here"}
	tests := []struct {
		name      string
		dialErr   error
		blockRing bool // the dial never answers: the ring timeout ends it
		runner    Outcome
		want      Outcome
		status    string
		retryAt   time.Time
		detail    string
	}{
		{"right party", nil, false, OutcomeRightParty, OutcomeRightParty, StatusDone, time.Time{}, ""},
		{"wrong party retries", nil, false, OutcomeWrongParty, OutcomeWrongParty, StatusRetry, wt(2026, 3, 3, 10, 15), ""},
		{"busy retries", busy, false, "", OutcomeBusy, StatusRetry, wt(2026, 3, 3, 10, 15), "SIP 486 Busy Here"},
		{"no answer (ring timeout)", nil, true, "", OutcomeNoAnswer, StatusRetry, wt(2026, 3, 3, 10, 15), "ring timeout"},
		{"sip no answer", &sipgw.DialError{StatusCode: 480, Reason: "Temporarily Unavailable"}, false, "", OutcomeNoAnswer, StatusRetry, wt(2026, 3, 3, 10, 15), "SIP 480 Temporarily Unavailable"},
		{"rejected fails", &sipgw.DialError{StatusCode: 403, Reason: "Forbidden"}, false, "", OutcomeFailed, StatusRetry, wt(2026, 3, 3, 10, 15), "SIP 403 Forbidden"},
		{"runner without outcome", nil, false, "", OutcomeFailed, StatusRetry, wt(2026, 3, 3, 10, 15), "runner error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ranWith Job
			runner := runnerFunc(func(ctx context.Context, leg telephony.Leg, j Job) (Outcome, error) {
				ranWith = j
				if tc.runner == "" {
					return "", errors.New("boom")
				}
				return tc.runner, nil
			})
			r := newRig(t, runner, WorkerConfig{RingTimeout: 20 * time.Millisecond})
			r.dialer.result = func(ctx context.Context, _ string) error {
				if tc.blockRing {
					<-ctx.Done()
					return fmt.Errorf("sipgw: dial: %w", ctx.Err())
				}
				return tc.dialErr
			}
			j := r.enqueue(Job{CaseNumber: "777"}) // phone from the book
			r.step()
			if n := r.dialer.count("sip:+48600700700@trunk"); n != 1 {
				t.Fatalf("dialled %d times", n)
			}
			got := r.job(j.ID)
			if got.Status != tc.status || got.Outcome != tc.want || got.Attempts != 1 {
				t.Fatalf("job %+v, want status %s outcome %s", got, tc.status, tc.want)
			}
			if tc.status == StatusRetry && !r.dueAt(j.ID).Equal(tc.retryAt) {
				t.Errorf("retry at %v, want %v", r.dueAt(j.ID).In(warsaw), tc.retryAt)
			}
			es := r.entries("777")
			if len(es) != 2 || es[0].Event != EventDial || es[1].Event != EventOutcome ||
				es[1].Outcome != string(tc.want) || es[1].Phone != "+48600700700" || es[1].Detail != tc.detail {
				t.Fatalf("ledger %+v", es)
			}
			if tc.dialErr == nil && !tc.blockRing {
				if ranWith.ID != j.ID || ranWith.CaseNumber != "777" {
					t.Errorf("runner got %+v", ranWith)
				}
				if c := r.dialer.legs[0].Cause(); c != telephony.CauseBotHangup {
					t.Errorf("leg not hung up: %q", c)
				}
			}
			if h := r.dialer.headers[0]["X-Hotline-Attempt"]; h != j.ID+"-1" {
				t.Errorf("attempt header %q", h)
			}
			// The live mark is gone: another call to the debtor may go out.
			if err := r.gate.Check(t.Context(), Attempt{CaseNumber: "777", Phone: "+48600700700", At: r.clk.Now()}); err != nil {
				t.Errorf("after the call: %v", err)
			}
		})
	}
}

func TestWorkerRetriesWithinRulesThenFails(t *testing.T) {
	r := newRig(t, runnerFunc(func(context.Context, telephony.Leg, Job) (Outcome, error) { return OutcomeWrongParty, nil }),
		WorkerConfig{MaxAttempts: 3, Backoff: []time.Duration{time.Hour, 20 * time.Hour}})
	r.clk.Set(wt(2026, 3, 6, 19, 30)) // Friday evening
	j := r.enqueue(Job{CaseNumber: "9", Phone: "+48600000009"})
	r.step()
	// now+1h is Friday 20:30, outside the window: Monday 08:00.
	if at := r.dueAt(j.ID); !at.Equal(wt(2026, 3, 9, 8, 0)) {
		t.Fatalf("first retry at %v", at.In(warsaw))
	}
	r.clk.Set(wt(2026, 3, 9, 8, 0))
	r.step()
	// now+20h is Tuesday 04:00: 08:00.
	if at := r.dueAt(j.ID); !at.Equal(wt(2026, 3, 10, 8, 0)) {
		t.Fatalf("second retry at %v", at.In(warsaw))
	}
	r.clk.Set(wt(2026, 3, 10, 8, 0))
	r.step()
	if got := r.job(j.ID); got.Status != StatusFailed || got.Attempts != 3 {
		t.Fatalf("after 3 attempts: %+v", got)
	}
	r.clk.Add(48 * time.Hour)
	r.step()
	if n := r.dialer.total(); n != 3 {
		t.Fatalf("dialled %d times", n)
	}
}

func TestWorkerGateRefusals(t *testing.T) {
	r := newRig(t, nil, WorkerConfig{})
	ctx := t.Context()
	// Outside the window: not dialled, not an attempt, due again at the opening.
	r.clk.Set(wt(2026, 3, 7, 12, 0)) // Saturday
	j := r.enqueue(Job{CaseNumber: "1", Phone: "+48600000001"})
	r.step()
	if got := r.job(j.ID); got.Attempts != 0 || got.Status != StatusRetry || !r.dueAt(j.ID).Equal(wt(2026, 3, 9, 8, 0)) {
		t.Fatalf("weekend job %+v due %v", got, r.dueAt(j.ID))
	}
	es := r.entries("1")
	if len(es) != 1 || es[0].Event != EventRefused || es[0].Rule != RuleWindow || es[0].Outcome != string(OutcomeRefused) {
		t.Fatalf("ledger %+v", es)
	}
	// Do-not-call: refused for good.
	r.clk.Set(wt(2026, 3, 9, 9, 0))
	if err := r.gate.MarkDNC(ctx, "+48600000002"); err != nil {
		t.Fatal(err)
	}
	k := r.enqueue(Job{CaseNumber: "2", Phone: "+48600000002"})
	r.step()
	if got := r.job(k.ID); got.Status != StatusFailed || got.Outcome != OutcomeRefused {
		t.Fatalf("dnc job %+v", got)
	}
	// No phone anywhere: failed, recorded.
	m := r.enqueue(Job{CaseNumber: "404"})
	r.step()
	if got := r.job(m.ID); got.Status != StatusFailed {
		t.Fatalf("phoneless job %+v", got)
	}
	if r.dialer.count("sip:+48600000002@trunk") != 0 {
		t.Fatal("dialled a do-not-call number")
	}
}

func TestWorkerCampaignPauseAndConcurrency(t *testing.T) {
	release := make(chan struct{})
	var in, peak atomic.Int64
	runner := runnerFunc(func(ctx context.Context, _ telephony.Leg, _ Job) (Outcome, error) {
		n := in.Add(1)
		defer in.Add(-1)
		if n > peak.Load() {
			peak.Store(n)
		}
		<-release
		return OutcomeRightParty, nil
	})
	r := newRig(t, runner, WorkerConfig{MaxConcurrent: 4})
	ctx := t.Context()
	for i := range 5 {
		r.phones[fmt.Sprintf("c%d", i)] = fmt.Sprintf("+4860000010%d", i)
	}
	camp, err := r.camps.Create(ctx, CampaignSpec{Name: "marzec", CaseNumbers: []string{"c0", "c1", "c2"}, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	r.w.pass(ctx, ctx)
	eventually(t, 5*time.Second, "one campaign call up", func() bool { return in.Load() == 1 })
	close(release)
	r.w.wg.Wait()
	if n := r.dialer.total(); n != 1 || peak.Load() != 1 {
		t.Fatalf("%d dials, peak %d with campaign concurrency 1", n, peak.Load())
	}
	for range 2 {
		r.clk.Add(campaignBusyDelay)
		r.step()
	}
	got, err := r.camps.Get(ctx, camp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != CampaignDone || got.Finished != 3 || got.Pending != 0 || got.Final[OutcomeRightParty] != 3 || got.Attempts != 3 {
		t.Fatalf("campaign %+v", got)
	}

	// Pause parks the jobs (no dial); resume brings them back.
	p, err := r.camps.Create(ctx, CampaignSpec{CaseNumbers: []string{"c3", "c4"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.camps.Pause(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	r.step()
	if n := r.dialer.total(); n != 3 {
		t.Fatalf("a paused campaign dialled (%d)", n)
	}
	if got, _ := r.camps.Get(ctx, p.ID); got.Status != CampaignPaused || got.Pending != 2 {
		t.Fatalf("paused campaign %+v", got)
	}
	if _, err := r.camps.Resume(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	r.step()
	if n := r.dialer.total(); n != 5 {
		t.Fatalf("after resume %d dials, want 5", n)
	}
	if _, err := r.camps.Pause(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("pause unknown: %v", err)
	}
}

func TestPacer(t *testing.T) {
	p := pacer{every: 20 * time.Millisecond}
	start := time.Now()
	for range 5 {
		if err := p.wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Fatalf("5 starts at 50/s took %v, want >= 80ms", d)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	p.next = time.Now().Add(time.Hour)
	if err := p.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
}

func TestWorkerRunWakesAndStops(t *testing.T) {
	r := newRig(t, nil, WorkerConfig{Poll: time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.w.Run(ctx) }()
	j := r.enqueue(Job{Phone: "+48600000003"})
	r.w.Wake()
	eventually(t, 5*time.Second, "the job done", func() bool {
		got, err := r.sched.Get(t.Context(), j.ID)
		return err == nil && got.Status == StatusDone
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestWorkerDrainReleasesClaimedWork: a job claimed but not yet dialled
// (waiting for the calls-per-second pacer) goes back to the due set when
// the instance drains, undialled, for another instance to take.
func TestWorkerDrainReleasesClaimedWork(t *testing.T) {
	r := newRig(t, nil, WorkerConfig{Poll: time.Millisecond})
	r.w.pace.every, r.w.pace.next = time.Hour, time.Now().Add(time.Hour)
	j := r.enqueue(Job{Phone: "+48600000004"})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.w.Run(ctx) }()
	eventually(t, 5*time.Second, "the job claimed", func() bool {
		n, _ := r.sched.InFlight(t.Context())
		return n == 1
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, _ := r.sched.InFlight(t.Context()); n != 0 {
		t.Fatalf("%d still in flight after drain", n)
	}
	if at := r.dueAt(j.ID); at.IsZero() || r.dialer.total() != 0 {
		t.Fatalf("due %v, %d dials", at, r.dialer.total())
	}
}
