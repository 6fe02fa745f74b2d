package outbound

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/calendar"
	"hotline/assistant/callbacks"
	"hotline/assistant/redistest"
)

// handoffRig is the consultants' hand-off on one store, with a clock
// that starts on Tuesday 3 March 2026, 10:00 in Warsaw.
type handoffRig struct {
	t      *testing.T
	rdb    redis.UniversalClient
	clk    *clock
	cbs    *callbacks.Service
	sched  *Scheduler
	gate   *Gate
	ledger *Ledger
	h      *Handoff
}

func newHandoffRig(t *testing.T, rdb redis.UniversalClient, prefix string, gc GateConfig) *handoffRig {
	t.Helper()
	r := &handoffRig{t: t, rdb: rdb, clk: newClock(wt(2026, 3, 3, 10, 0))}
	r.cbs = newCallbacks(t, rdb, prefix, r.clk)
	r.sched = NewScheduler(rdb, prefix, r.cbs, SchedulerConfig{Owner: "a", Now: r.clk.Now})
	r.gate = newGate(t, rdb, prefix, gc)
	r.ledger = NewLedger(rdb, prefix)
	h, err := NewHandoff(HandoffConfig{Now: r.clk.Now}, HandoffDeps{
		Scheduler: r.sched, Gate: r.gate, Ledger: r.ledger, Phones: phonesMap{"777": "+48600700700"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.h = h
	return r
}

// book stores a callback at.
func (r *handoffRig) book(phone, caseNumber string, at time.Time) callbacks.Callback {
	r.t.Helper()
	cb, err := r.cbs.Schedule(r.t.Context(), callbacks.Request{Phone: phone, CaseNumber: caseNumber, At: at})
	if err != nil {
		r.t.Fatal(err)
	}
	return cb
}

// due books a callback at at, moves the clock there and runs one pass of
// the hand-off loop, which queues it for the consultants.
func (r *handoffRig) due(phone, caseNumber string, at time.Time) callbacks.Callback {
	r.t.Helper()
	cb := r.book(phone, caseNumber, at)
	r.clk.Set(at)
	r.h.pass(r.t.Context())
	if got := r.record(cb.ID); got.Status != StatusConsultant {
		r.t.Fatalf("callback after the hand-over: %+v", got)
	}
	return cb
}

func (r *handoffRig) record(id string) callbacks.Callback {
	r.t.Helper()
	cb, err := r.cbs.Get(r.t.Context(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return cb
}

func (r *handoffRig) list(user string) []Task {
	r.t.Helper()
	l, err := r.h.List(r.t.Context(), user)
	if err != nil {
		r.t.Fatal(err)
	}
	return l
}

// events renders the ledger entries of the callback as
// "event/outcome/rule".
func (r *handoffRig) events(id string) []string {
	r.t.Helper()
	var out []string
	err := r.ledger.Each(r.t.Context(), time.Time{}, time.Time{}, func(e Entry) error {
		if e.CallbackID == id {
			out = append(out, strings.TrimRight(e.Event+"/"+e.Outcome+"/"+e.Rule, "/"))
		}
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

// dueAt is the callback's score in the callbacks' due set (zero: not there).
func (r *handoffRig) dueAt(id string) time.Time {
	r.t.Helper()
	s, err := r.rdb.ZScore(r.t.Context(), r.sched.cbDueKey(), id).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}
	}
	if err != nil {
		r.t.Fatal(err)
	}
	return time.Unix(int64(s), 0)
}

// live reports whether a call to the phone is marked in progress.
func (r *handoffRig) live(phone string) bool {
	r.t.Helper()
	n, err := r.rdb.Exists(r.t.Context(), r.gate.prefix+keyLiveTel+phone).Result()
	if err != nil {
		r.t.Fatal(err)
	}
	return n == 1
}

func TestHandoffReport(t *testing.T) {
	noon, late := wt(2026, 3, 3, 12, 0), wt(2026, 3, 3, 19, 30)
	tests := []struct {
		name     string
		at       time.Time     // the callback's slot (the clock then)
		later    time.Duration // the consultant takes it this long after the slot
		before   int           // attempts made before
		outcome  string
		status   string
		attempts int
		retryAt  time.Time
	}{
		{"right party: done", noon, 0, 0, "right-party", StatusDone, 1, time.Time{}},
		{"right party, ledger word", noon, 0, 0, "answered-right-party", StatusDone, 1, time.Time{}},
		{"no answer: retry after the backoff", noon, 5 * time.Minute, 0, "no-answer", StatusRetry, 1, noon.Add(20 * time.Minute)},
		{"busy: retry", noon, 0, 0, "busy", StatusRetry, 1, noon.Add(15 * time.Minute)},
		{"wrong party, second attempt: the second backoff", noon, 0, 1, "wrong-party", StatusRetry, 2, noon.Add(time.Hour)},
		{"no answer at 19:50: retry inside the window (Wednesday 08:00)", late, 20 * time.Minute, 0, "no-answer", StatusRetry, 1, wt(2026, 3, 4, 8, 0)},
		{"no answer, last attempt: failed", noon, 0, 2, "no-answer", StatusFailed, 3, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
				ctx := t.Context()
				r := newHandoffRig(t, rdb, prefix, GateConfig{})
				cb := r.book("+48600100200", "777", tc.at)
				if tc.before > 0 {
					if err := r.cbs.Update(ctx, cb.ID, func(c *callbacks.Callback) { c.Attempts = tc.before }); err != nil {
						t.Fatal(err)
					}
				}
				r.clk.Set(tc.at)
				r.h.pass(ctx)
				takeAt := tc.at.Add(tc.later)
				r.clk.Set(takeAt)

				l := r.list("ala")
				if len(l) != 1 || l[0].ID != cb.ID || l[0].Phone != "+********200" || l[0].CaseNumber != "777" ||
					l[0].TakenBy != "" || !l[0].At.Equal(tc.at) || l[0].Attempts != tc.before {
					t.Fatalf("list before the take: %+v", l)
				}
				task, err := r.h.Take(ctx, cb.ID, "ala")
				if err != nil || task.Phone != "+48600100200" || task.CaseNumber != "777" || task.TakenBy != "ala" ||
					task.HeldUntil == nil || !task.HeldUntil.Equal(takeAt.Add(30*time.Minute)) {
					t.Fatalf("take: %+v %v", task, err)
				}
				if l := r.list("ala"); len(l) != 1 || l[0].Phone != "+48600100200" || l[0].TakenBy != "ala" {
					t.Fatalf("the taker's list: %+v", l)
				}
				if l := r.list("ola"); len(l) != 1 || l[0].Phone != "+********200" || l[0].TakenBy != "ala" {
					t.Fatalf("another consultant's list: %+v", l)
				}
				if !r.live("+48600100200") {
					t.Fatal("no live mark while the consultant calls")
				}
				if err := r.h.Report(ctx, cb.ID, "ola", OutcomeNoAnswer); !errors.Is(err, ErrNotTaker) {
					t.Fatalf("a report by another consultant: %v", err)
				}
				o, err := ParseConsultantOutcome(tc.outcome)
				if err != nil {
					t.Fatal(err)
				}
				if err := r.h.Report(ctx, cb.ID, "ala", o); err != nil {
					t.Fatal(err)
				}
				if err := r.h.Report(ctx, cb.ID, "ala", o); !errors.Is(err, ErrNotFound) {
					t.Fatalf("a second report: %v", err)
				}
				got := r.record(cb.ID)
				if got.Status != tc.status || got.Attempts != tc.attempts || got.Outcome != string(o) {
					t.Fatalf("callback %+v, want %s after %d attempts", got, tc.status, tc.attempts)
				}
				if at := r.dueAt(cb.ID); !at.Equal(tc.retryAt) {
					t.Fatalf("due again at %v, want %v", at, tc.retryAt)
				}
				if l := r.list("ala"); len(l) != 0 {
					t.Fatalf("still listed: %+v", l)
				}
				if r.live("+48600100200") {
					t.Fatal("the live mark outlived the report")
				}
				if ev := r.events(cb.ID); len(ev) != 2 || ev[0] != EventDial || ev[1] != EventOutcome+"/"+string(o) {
					t.Fatalf("ledger %v", ev)
				}
				es, _ := r.ledger.ByCase(ctx, "777", 0)
				want := fmt.Sprintf("%s-%d", cb.ID, tc.before+1)
				if len(es) != 2 || es[0].AttemptID != want || es[0].Detail != "consultant ala" || es[1].Detail != "consultant ala" ||
					!es[0].At.Equal(takeAt) || es[0].Phone != "+48600100200" {
					t.Fatalf("ledger entries %+v, want attempt %s by ala", es, want)
				}
			})
		})
	}
}

func TestHandoffTakeRefused(t *testing.T) {
	noon := wt(2026, 3, 3, 12, 0)
	phone := "+48600100200"
	tests := []struct {
		name    string
		gate    GateConfig
		setup   func(t *testing.T, r *handoffRig)
		rule    string
		status  string
		retryAt time.Time
	}{
		{"do not call: failed", GateConfig{}, func(t *testing.T, r *handoffRig) {
			if err := r.gate.MarkDNC(t.Context(), phone); err != nil {
				t.Fatal(err)
			}
		}, RuleDNC, StatusFailed, time.Time{}},
		{"outside the calling window: retry when it opens", GateConfig{Window: hours(t, "mon-fri 13:00-20:00")}, nil,
			RuleWindow, StatusRetry, wt(2026, 3, 3, 13, 0)},
		{"weekly cap: retry when an attempt leaves the 7 days", GateConfig{WeeklyCap: 2}, func(t *testing.T, r *handoffRig) {
			for i, at := range []time.Time{wt(2026, 3, 2, 9, 0), wt(2026, 3, 2, 10, 0)} {
				a := Attempt{ID: fmt.Sprint("old-", i), Phone: phone, At: at}
				if err := r.gate.Acquire(t.Context(), a); err != nil {
					t.Fatal(err)
				}
				if err := r.gate.End(t.Context(), a); err != nil {
					t.Fatal(err)
				}
			}
		}, RuleWeeklyCap, StatusRetry, wt(2026, 3, 9, 9, 0)},
		{"a call in progress: retry in 15 minutes", GateConfig{}, func(t *testing.T, r *handoffRig) {
			if err := r.gate.Acquire(t.Context(), Attempt{ID: "dialling", Phone: phone, At: noon}); err != nil {
				t.Fatal(err)
			}
		}, RuleLive, StatusRetry, noon.Add(15 * time.Minute)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
				r := newHandoffRig(t, rdb, prefix, tc.gate)
				cb := r.due(phone, "", noon)
				if tc.setup != nil {
					tc.setup(t, r)
				}
				_, err := r.h.Take(t.Context(), cb.ID, "ala")
				var re *RefusedError
				if !errors.As(err, &re) || re.Rule != tc.rule {
					t.Fatalf("take: %v, want a refusal under %s", err, tc.rule)
				}
				got := r.record(cb.ID)
				if got.Status != tc.status || got.Attempts != 0 || got.Outcome != string(OutcomeRefused) {
					t.Fatalf("callback %+v, want %s without an attempt", got, tc.status)
				}
				if at := r.dueAt(cb.ID); !at.Equal(tc.retryAt) {
					t.Fatalf("due again at %v, want %v", at, tc.retryAt)
				}
				if l := r.list("ala"); len(l) != 0 {
					t.Fatalf("a refused callback is still listed: %+v", l)
				}
				if ev := r.events(cb.ID); len(ev) != 1 || ev[0] != EventRefused+"/"+string(OutcomeRefused)+"/"+tc.rule {
					t.Fatalf("ledger %v", ev)
				}
			})
		})
	}
}

func hours(t *testing.T, spec string) calendar.Hours {
	t.Helper()
	h, err := calendar.ParseHours(warsaw, spec)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHandoffReleaseAndErrors(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := t.Context()
		r := newHandoffRig(t, rdb, prefix, GateConfig{WeeklyCap: 1})
		noon := wt(2026, 3, 3, 12, 0)
		cb := r.due("", "777", noon) // the phone comes from the case

		if _, err := r.h.Take(ctx, "nope", "ala"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("take of an unknown callback: %v", err)
		}
		if _, err := r.h.Take(ctx, cb.ID, ""); !errors.Is(err, ErrInvalid) {
			t.Fatalf("take without a user: %v", err)
		}
		if err := r.h.Release(ctx, cb.ID, "ala"); !errors.Is(err, ErrNotTaker) {
			t.Fatalf("release of an untaken callback: %v", err)
		}
		task, err := r.h.Take(ctx, cb.ID, "ala")
		if err != nil || task.Phone != "+48600700700" {
			t.Fatalf("take: %+v %v", task, err)
		}
		if again, err := r.h.Take(ctx, cb.ID, "ala"); err != nil || again.Phone != "+48600700700" {
			t.Fatalf("taking it again (a reload): %+v %v", again, err)
		}
		if _, err := r.h.Take(ctx, cb.ID, "ola"); !errors.Is(err, ErrTaken) {
			t.Fatalf("take by another consultant: %v", err)
		}
		if err := r.h.Report(ctx, cb.ID, "ala", OutcomeFailed); !errors.Is(err, ErrInvalid) {
			t.Fatalf("a report of %q: %v", OutcomeFailed, err)
		}
		if _, err := ParseConsultantOutcome("voicemail"); !errors.Is(err, ErrInvalid) {
			t.Fatalf("parse voicemail: %v", err)
		}
		if err := r.h.Release(ctx, cb.ID, "ola"); !errors.Is(err, ErrNotTaker) {
			t.Fatalf("release by another consultant: %v", err)
		}
		if err := r.h.Release(ctx, cb.ID, "ala"); err != nil {
			t.Fatal(err)
		}
		if got := r.record(cb.ID); got.Status != StatusConsultant || got.Attempts != 0 {
			t.Fatalf("released callback %+v", got)
		}
		if l := r.list("ola"); len(l) != 1 || l[0].TakenBy != "" || l[0].Phone != "+********700" {
			t.Fatalf("list after the release: %+v", l)
		}
		if r.live("+48600700700") {
			t.Fatal("the live mark outlived the release")
		}
		// The weekly cap is 1: the same attempt taken again is counted once.
		if _, err := r.h.Take(ctx, cb.ID, "ola"); err != nil {
			t.Fatalf("take after the release: %v", err)
		}
		if !r.live("+48600700700") {
			t.Fatal("no live mark after the second take")
		}
		if ev := r.events(cb.ID); strings.Join(ev, " ") != "dial released dial" {
			t.Fatalf("ledger %v", ev)
		}
	})
}

func TestHandoffHoldLapses(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := t.Context()
		r := newHandoffRig(t, rdb, prefix, GateConfig{})
		noon := wt(2026, 3, 3, 12, 0)
		cb := r.due("+48600100200", "", noon)
		if _, err := r.h.Take(ctx, cb.ID, "ala"); err != nil {
			t.Fatal(err)
		}
		r.clk.Set(noon.Add(29 * time.Minute))
		if l := r.list("ola"); len(l) != 1 || l[0].TakenBy != "ala" {
			t.Fatalf("within the hold: %+v", l)
		}
		if _, err := r.h.Take(ctx, cb.ID, "ola"); !errors.Is(err, ErrTaken) {
			t.Fatalf("take within the hold: %v", err)
		}
		r.clk.Set(noon.Add(31 * time.Minute))
		if l := r.list("ola"); len(l) != 1 || l[0].TakenBy != "" || l[0].HeldUntil != nil {
			t.Fatalf("after the hold: %+v", l)
		}
		if r.live("+48600100200") {
			t.Fatal("the live mark outlived the hold")
		}
		if err := r.h.Report(ctx, cb.ID, "ala", OutcomeRightParty); !errors.Is(err, ErrNotTaker) {
			t.Fatalf("a report after the hold lapsed: %v", err)
		}
		if _, err := r.h.Take(ctx, cb.ID, "ola"); err != nil {
			t.Fatalf("take after the hold: %v", err)
		}
		if err := r.h.Report(ctx, cb.ID, "ola", OutcomeRightParty); err != nil {
			t.Fatal(err)
		}
		if got := r.record(cb.ID); got.Status != StatusDone || got.Attempts != 1 {
			t.Fatalf("callback %+v", got)
		}
		if ev := r.events(cb.ID); strings.Join(ev, " ") != "dial released dial outcome/"+string(OutcomeRightParty) {
			t.Fatalf("ledger %v", ev)
		}
	})
}

// TestHandoffTakeRace: two consultants click "Biorę" on the same callback
// at once, 50 times over: exactly one of them gets it each time.
func TestHandoffTakeRace(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := t.Context()
		r := newHandoffRig(t, rdb, prefix, GateConfig{})
		noon := wt(2026, 3, 3, 12, 0)
		const rounds = 50
		ids := make([]string, rounds)
		for i := range ids {
			ids[i] = r.book(fmt.Sprintf("+4860010%04d", i), "", noon).ID
		}
		r.clk.Set(noon)
		r.h.pass(ctx)
		if l := r.list("ala"); len(l) != rounds {
			t.Fatalf("%d callbacks listed, want %d", len(l), rounds)
		}
		wins := map[string]int{}
		for _, id := range ids {
			start := make(chan struct{})
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, user := range []string{"ala", "ola"} {
				wg.Go(func() {
					<-start
					_, errs[i] = r.h.Take(ctx, id, user)
				})
			}
			close(start)
			wg.Wait()
			switch {
			case errs[0] == nil && errors.Is(errs[1], ErrTaken):
				wins["ala"]++
			case errs[1] == nil && errors.Is(errs[0], ErrTaken):
				wins["ola"]++
			default:
				t.Fatalf("callback %s: ala %v, ola %v: want exactly one winner", id, errs[0], errs[1])
			}
		}
		t.Logf("wins: %v", wins)
		var dials int
		_ = r.ledger.Each(ctx, time.Time{}, time.Time{}, func(e Entry) error {
			if e.Event == EventDial {
				dials++
			}
			return nil
		})
		if dials != rounds {
			t.Fatalf("%d dial entries for %d takes", dials, rounds)
		}
	})
}

// TestHandoffWorkerDialsNothing: with a hand-off the dialer queues due
// callbacks for the consultants and dials only attempts; without one it
// would have dialled the callback.
func TestHandoffWorkerDialsNothing(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := t.Context()
		r := newHandoffRig(t, rdb, prefix, GateConfig{})
		d := newFakeDialer()
		w, err := NewWorker(WorkerConfig{Now: r.clk.Now, CPS: -1, Target: "sip:{phone}@trunk"}, WorkerDeps{
			Scheduler: r.sched, Gate: r.gate, Ledger: r.ledger, Dialer: d, Runner: runnerFunc(answerRight), Handoff: r.h,
		})
		if err != nil {
			t.Fatal(err)
		}
		noon := wt(2026, 3, 3, 12, 0)
		cb := r.book("+48600100200", "", noon)
		r.clk.Set(noon)
		j, err := r.sched.Enqueue(ctx, Job{CaseNumber: "555", Phone: "+48600100555"}, noon)
		if err != nil {
			t.Fatal(err)
		}
		w.pass(ctx, ctx)
		w.wg.Wait()
		if d.total() != 1 || d.count("sip:+48600100555@trunk") != 1 {
			t.Fatalf("dials %v, want only the attempt's", d.dials)
		}
		if got, _ := r.sched.Get(ctx, j.ID); got.Status != StatusDone {
			t.Fatalf("attempt %+v", got)
		}
		if l := r.list("ala"); len(l) != 1 || l[0].ID != cb.ID {
			t.Fatalf("consultants' list %+v", l)
		}
		// Out of the in-flight set: a lapsed lease puts nothing back.
		r.clk.Set(noon.Add(time.Hour))
		if n, err := r.sched.RequeueExpired(ctx); err != nil || n != 0 {
			t.Fatalf("requeued %d (%v)", n, err)
		}
		if n, _ := r.sched.InFlight(ctx); n != 0 {
			t.Fatalf("%d jobs in flight", n)
		}
		if ev := r.events(cb.ID); len(ev) != 0 {
			t.Fatalf("ledger of the callback before any take: %v", ev)
		}
	})
}

// TestHandoffRunDefersAttempts: without a dialer (outbound.enabled off)
// Run queues callbacks for the consultants and pushes attempts back.
func TestHandoffRunDefersAttempts(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := t.Context()
		r := newHandoffRig(t, rdb, prefix, GateConfig{})
		noon := wt(2026, 3, 3, 12, 0)
		r.book("+48600100200", "", noon)
		r.clk.Set(noon)
		j, err := r.sched.Enqueue(ctx, Job{CaseNumber: "555"}, noon)
		if err != nil {
			t.Fatal(err)
		}
		r.h.pass(ctx)
		if l := r.list("ala"); len(l) != 1 {
			t.Fatalf("consultants' list %+v", l)
		}
		s, err := rdb.ZScore(ctx, r.sched.dueKey(), j.ID).Result()
		if err != nil || !time.Unix(int64(s), 0).Equal(noon.Add(attemptDeferral)) {
			t.Fatalf("attempt due at %v (%v), want %v", time.Unix(int64(s), 0), err, noon.Add(attemptDeferral))
		}
		if got, _ := r.sched.Get(ctx, j.ID); got.Attempts != 0 || got.Status != StatusScheduled {
			t.Fatalf("deferred attempt %+v", got)
		}
	})
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"+48601234567": "+********567", "601 234 567": "*** *** 567", "12": "12", "": "",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}
