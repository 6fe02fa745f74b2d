package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/redistest"
	"hotline/telephony"
)

// shared is one Redis seen by two instances: two clients (two connection
// pools, as two `hotline serve` processes have) under one prefix, and a
// way to let time pass on the Redis server's clock.
type shared struct {
	c       [2]redis.UniversalClient
	prefix  string
	advance func(d time.Duration) // the Redis clock moves on by d
}

// eachShared runs f against the real redis-server (skipped without one
// unless HOTLINE_E2E=1) and against miniredis.
func eachShared(t *testing.T, f func(t *testing.T, s shared)) {
	t.Helper()
	t.Run("real", func(t *testing.T) {
		rdb, prefix := redistest.Real(t)
		opt := *rdb.(*redis.Client).Options()
		second := redis.NewClient(&opt)
		t.Cleanup(func() { _ = second.Close() })
		// Leases on the real server lapse in real time.
		f(t, shared{c: [2]redis.UniversalClient{rdb, second}, prefix: prefix, advance: time.Sleep})
	})
	t.Run("mini", func(t *testing.T) {
		rdb, m, prefix := redistest.Mini(t)
		second := redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true})
		t.Cleanup(func() { _ = second.Close() })
		// TIME in scripts follows the real clock until advance sets it
		// (and stops it there).
		var mu sync.Mutex
		var offset time.Duration
		advance := func(d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			offset += d
			m.SetTime(time.Now().Add(offset))
		}
		f(t, shared{c: [2]redis.UniversalClient{rdb, second}, prefix: prefix, advance: advance})
	})
}

// TestRateReservationsAcrossInstances: two instances reserving starts on
// one shared rate of 10 calls per second get distinct starts at least
// 100 ms apart (the reservation arithmetic: nobody sleeps here).
func TestRateReservationsAcrossInstances(t *testing.T) {
	eachShared(t, func(t *testing.T, s shared) {
		ctx := t.Context()
		lims := [2]*Limits{NewLimits(s.c[0], s.prefix), NewLimits(s.c[1], s.prefix)}
		rate, ok := lims[0].TrunkRate(10)
		if !ok || rate.Every != 100*time.Millisecond {
			t.Fatalf("trunk rate %+v %v", rate, ok)
		}
		var (
			mu    sync.Mutex
			got   []Reservation
			wg    sync.WaitGroup
			errCh = make(chan error, 2)
		)
		for i := range 2 {
			wg.Go(func() {
				for range 20 {
					r, err := lims[i].Reserve(ctx, []Rate{rate}, 0, time.Hour)
					if err != nil {
						errCh <- err
						return
					}
					mu.Lock()
					got = append(got, r)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(errCh)
		for err := range errCh {
			t.Fatal(err)
		}
		if len(got) != 40 {
			t.Fatalf("%d reservations, want 40", len(got))
		}
		slices.SortFunc(got, func(a, b Reservation) int { return a.At.Compare(b.At) })
		for i, r := range got {
			if !r.OK || r.Wait < 0 {
				t.Fatalf("reservation %d: %+v", i, r)
			}
			if i > 0 {
				if gap := r.At.Sub(got[i-1].At); gap < 100*time.Millisecond {
					t.Fatalf("starts %d and %d only %v apart", i-1, i, gap)
				}
			}
		}
		if span := got[39].At.Sub(got[0].At); span < 3900*time.Millisecond {
			t.Fatalf("40 starts at 10/s span %v", span)
		}
		if last := got[39].Wait; last < 3*time.Second {
			t.Fatalf("the 40th start is only %v away", last)
		}

		// A slot beyond the max wait is not reserved and moves nothing.
		r, err := lims[1].Reserve(ctx, []Rate{rate}, 0, time.Second)
		if err != nil || r.OK || r.Wait <= time.Second {
			t.Fatalf("far slot: %+v %v", r, err)
		}
		next, err := lims[0].Reserve(ctx, []Rate{rate}, 0, time.Hour)
		if err != nil || !next.OK || !next.At.Equal(got[39].At.Add(100*time.Millisecond)) {
			t.Fatalf("after a refused reservation: %+v (last %v) %v", next, got[39].At, err)
		}
		// The key lapses about a second after its next free start.
		ttl, err := s.c[0].PTTL(ctx, rate.Key).Result()
		if err != nil || ttl <= next.Wait || ttl > next.Wait+100*time.Millisecond+1100*time.Millisecond {
			t.Fatalf("rate key ttl %v (wait %v) %v", ttl, next.Wait, err)
		}
	})
}

// TestRateJointReservation: a campaign's and the trunk's rates are
// reserved as one start that both allow.
func TestRateJointReservation(t *testing.T) {
	eachShared(t, func(t *testing.T, s shared) {
		ctx := t.Context()
		l := NewLimits(s.c[0], s.prefix)
		trunk, _ := l.TrunkRate(10)
		camp, _ := l.CampaignRate("c1", 1)
		reserve := func(minWait time.Duration, rates ...Rate) Reservation {
			t.Helper()
			r, err := l.Reserve(ctx, rates, minWait, time.Hour)
			if err != nil || !r.OK {
				t.Fatalf("reserve: %+v %v", r, err)
			}
			return r
		}
		a := reserve(0, camp, trunk)
		b := reserve(0, trunk) // next trunk slot
		c := reserve(0, camp, trunk)
		if !b.At.Equal(a.At.Add(100*time.Millisecond)) || !c.At.Equal(a.At.Add(time.Second)) {
			t.Fatalf("a %v, b +%v, c +%v; want +100ms, +1s", a.At, b.At.Sub(a.At), c.At.Sub(a.At))
		}
		d := reserve(0, trunk) // the trunk follows c, not b
		if !d.At.Equal(c.At.Add(100 * time.Millisecond)) {
			t.Fatalf("trunk after the joint start: +%v", d.At.Sub(c.At))
		}
		// The instance's own wait is a floor.
		other, _ := l.CampaignRate("c2", 1)
		if e := reserve(300*time.Millisecond, other); e.Wait < 300*time.Millisecond {
			t.Fatalf("min wait ignored: %v", e.Wait)
		}
	})
}

// TestSemaphoreAcrossInstances: two instances hammering a semaphore of 3
// never hold more than 3 slots at once.
func TestSemaphoreAcrossInstances(t *testing.T) {
	eachShared(t, func(t *testing.T, s shared) {
		ctx := t.Context()
		lims := [2]*Limits{NewLimits(s.c[0], s.prefix), NewLimits(s.c[1], s.prefix)}
		sem, _ := lims[0].TrunkSlots(3)
		var in, peak, taken atomic.Int64
		errCh := make(chan error, 8)
		var wg sync.WaitGroup
		for g := range 8 {
			l := lims[g%2]
			wg.Go(func() {
				for i := range 60 {
					holder := fmt.Sprintf("i%d/g%d/%d", g%2, g, i)
					ok, err := l.Acquire(ctx, sem, holder, time.Minute)
					if err != nil {
						errCh <- err
						return
					}
					if !ok {
						continue
					}
					taken.Add(1)
					n := in.Add(1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					if h, err := l.Holders(ctx, sem); err != nil || h > 3 {
						errCh <- fmt.Errorf("%d holders (%v)", h, err)
						return
					}
					in.Add(-1)
					if err := l.Release(ctx, sem, holder); err != nil {
						errCh <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errCh)
		for err := range errCh {
			t.Fatal(err)
		}
		if p := peak.Load(); p > 3 || p < 1 || taken.Load() == 0 {
			t.Fatalf("peak %d holders, %d taken", p, taken.Load())
		}
		if h, err := lims[0].Holders(ctx, sem); err != nil || h != 0 {
			t.Fatalf("%d holders left (%v)", h, err)
		}
	})
}

// TestSemaphoreLeases: a crashed holder's slot frees itself when its lease
// lapses; a renewed one does not.
func TestSemaphoreLeases(t *testing.T) {
	eachShared(t, func(t *testing.T, s shared) {
		ctx := t.Context()
		a, b := NewLimits(s.c[0], s.prefix), NewLimits(s.c[1], s.prefix)
		sem, _ := a.CampaignSlots("c1", 1)
		const lease = 400 * time.Millisecond
		acquire := func(l *Limits, holder string) bool {
			t.Helper()
			ok, err := l.Acquire(ctx, sem, holder, lease)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !acquire(a, "a/1") || acquire(b, "b/1") {
			t.Fatal("a semaphore of 1 gave two slots")
		}
		if !acquire(a, "a/1") {
			t.Fatal("taking a held slot again must renew it")
		}
		// a "crashes": it never renews nor releases.
		s.advance(lease + 100*time.Millisecond)
		if !acquire(b, "b/1") {
			t.Fatal("a lapsed lease was not reclaimed")
		}
		// b renews within its lease, past the time it would have lapsed.
		for range 6 {
			s.advance(lease / 4)
			if ok, err := b.Renew(ctx, sem, "b/1", lease); err != nil || !ok {
				t.Fatalf("renew: %v %v", ok, err)
			}
			if acquire(a, "a/2") {
				t.Fatal("a renewed slot was taken")
			}
		}
		if err := b.Release(ctx, sem, "b/1"); err != nil {
			t.Fatal(err)
		}
		if !acquire(a, "a/2") {
			t.Fatal("a released slot was not free")
		}
		// The key does not outlive its holders for long.
		if ttl, err := s.c[0].PTTL(ctx, sem.Key).Result(); err != nil || ttl <= 0 || ttl > lease+time.Second {
			t.Fatalf("semaphore key ttl %v %v", ttl, err)
		}
	})
}

// TestWorkersShareTrunkConcurrency: two dialer instances with a trunk
// limit of 2 calls never have more than 2 calls up between them, and dial
// each of 10 due jobs exactly once.
func TestWorkersShareTrunkConcurrency(t *testing.T) {
	eachShared(t, func(t *testing.T, s shared) {
		ctx := t.Context()
		clk := newClock(wt(2026, 3, 3, 8, 0))
		dialer := newFakeDialer()
		lim := NewLimits(s.c[0], s.prefix)
		trunk, _ := lim.TrunkSlots(2)
		var in, peak, started atomic.Int64
		var overLimit atomic.Value
		finish := make(chan struct{})
		runner := runnerFunc(func(ctx context.Context, _ telephony.Leg, _ Job) (Outcome, error) {
			started.Add(1)
			n := in.Add(1)
			defer in.Add(-1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			if h, err := lim.Holders(ctx, trunk); err != nil || h > 2 {
				overLimit.Store(fmt.Sprintf("%d trunk slots held (%v)", h, err))
			}
			select {
			case <-finish:
			case <-ctx.Done():
			}
			return OutcomeRightParty, nil
		})
		var scheds [2]*Scheduler
		var workers [2]*Worker
		for i := range 2 {
			rdb := s.c[i]
			scheds[i] = NewScheduler(rdb, s.prefix, nil, SchedulerConfig{Owner: fmt.Sprintf("instance-%d", i), Lease: time.Hour, Now: clk.Now})
			w, err := NewWorker(WorkerConfig{
				MaxConcurrent: 4, CPS: -1, TrunkMaxConcurrent: 2, TrunkCPS: 1000, Poll: 2 * time.Millisecond,
				Target: "sip:{phone}@trunk", Now: clk.Now,
			}, WorkerDeps{
				Scheduler: scheds[i], Gate: newGate(t, rdb, s.prefix, GateConfig{}), Ledger: NewLedger(rdb, s.prefix),
				Campaigns: NewCampaigns(rdb, s.prefix, scheds[i], warsaw, clk.Now), Dialer: dialer, Runner: runner,
			})
			if err != nil {
				t.Fatal(err)
			}
			workers[i] = w
		}
		var ids []string
		for i := range 10 {
			j, err := scheds[i%2].Enqueue(ctx, Job{CaseNumber: fmt.Sprintf("t%d", i), Phone: fmt.Sprintf("+486000002%02d", i)}, clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, j.ID)
		}
		runCtx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Go(func() { _ = w.Run(runCtx) })
		}
		t.Cleanup(func() { stop(); wg.Wait() })

		// Let the calls end one at a time; jobs the full trunk deferred
		// come due again as the (injected) clock moves on.
		for done := 0; done < 10; done++ {
			want := int64(min(2, 10-done))
			deadline := time.Now().Add(15 * time.Second)
			for started.Load()-int64(done) < want { // calls up (in lags behind an end)
				if time.Now().After(deadline) {
					t.Fatalf("%d calls up after %d ended, want %d", started.Load()-int64(done), done, want)
				}
				clk.Add(trunkBusyDelay)
				time.Sleep(20 * time.Millisecond) // the workers poll every 2ms
			}
			select {
			case finish <- struct{}{}:
			case <-time.After(10 * time.Second):
				t.Fatalf("no call took the end after %d ended (%d dials)", done, dialer.total())
			}
		}
		eventually(t, 10*time.Second, "all jobs done", func() bool {
			for _, id := range ids {
				if j, err := scheds[0].Get(ctx, id); err != nil || j.Status != StatusDone {
					return false
				}
			}
			return true
		})
		stop()
		wg.Wait()
		if v := overLimit.Load(); v != nil {
			t.Fatal(v)
		}
		if p := peak.Load(); p != 2 {
			t.Fatalf("peak %d calls at once, want 2", p)
		}
		for i := range 10 {
			if n := dialer.count(fmt.Sprintf("sip:+486000002%02d@trunk", i)); n != 1 {
				t.Errorf("job %d dialled %d times", i, n)
			}
		}
		if h, err := lim.Holders(ctx, trunk); err != nil || h != 0 {
			t.Fatalf("%d trunk slots left held (%v)", h, err)
		}
	})
}

// TestWorkerLimitErrorFailsClosed: a limit that cannot be checked (here a
// key of the wrong type) defers the job undialled.
func TestWorkerLimitErrorFailsClosed(t *testing.T) {
	tests := []struct {
		name string
		cfg  WorkerConfig
		key  string
	}{
		{"trunk concurrency", WorkerConfig{TrunkMaxConcurrent: 1}, keySem + "trunk"},
		{"trunk rate", WorkerConfig{TrunkCPS: 5}, keyRate + "trunk"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil, tc.cfg)
			ctx := t.Context()
			if err := r.sched.rdb.HSet(ctx, r.sched.prefix+tc.key, "x", "y").Err(); err != nil {
				t.Fatal(err)
			}
			j := r.enqueue(Job{CaseNumber: "777"})
			r.step()
			if n := r.dialer.total(); n != 0 {
				t.Fatalf("dialled %d times past a broken limit", n)
			}
			if got := r.job(j.ID); got.Attempts != 0 || !r.dueAt(j.ID).Equal(r.clk.Now().Add(limitErrorDelay)) {
				t.Fatalf("job %+v due %v", got, r.dueAt(j.ID))
			}
			if err := r.sched.rdb.Del(ctx, r.sched.prefix+tc.key).Err(); err != nil {
				t.Fatal(err)
			}
			r.clk.Add(limitErrorDelay)
			r.step()
			if got := r.job(j.ID); got.Status != StatusDone || r.dialer.total() != 1 {
				t.Fatalf("after the fix: %+v, %d dials", got, r.dialer.total())
			}
		})
	}
}

// TestWorkerReleasesSlotsOnDrain: a job sleeping for its start holds its
// campaign's slot; a drain hands the job back and frees the slot.
func TestWorkerReleasesSlotsOnDrain(t *testing.T) {
	r := newRig(t, nil, WorkerConfig{Poll: time.Millisecond, TrunkCPS: 1})
	ctx := t.Context()
	r.phones["d1"] = "+48600000301"
	camp, err := r.camps.Create(ctx, CampaignSpec{CaseNumbers: []string{"d1"}, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	lim := NewLimits(r.sched.rdb, r.sched.prefix)
	trunk, _ := lim.TrunkRate(1)
	// Another instance took the trunk's next start 4 s from now.
	if _, err := lim.Reserve(ctx, []Rate{{Key: trunk.Key, Every: 4 * time.Second}}, 0, time.Hour); err != nil {
		t.Fatal(err)
	}
	sem, _ := lim.CampaignSlots(camp.ID, 1)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.w.Run(runCtx) }()
	eventually(t, 3*time.Second, "the campaign slot held while waiting", func() bool {
		n, _ := lim.Holders(ctx, sem)
		return n == 1
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, err := lim.Holders(ctx, sem); err != nil || n != 0 {
		t.Fatalf("%d campaign slots held after the drain (%v)", n, err)
	}
	if n, _ := r.sched.InFlight(ctx); n != 0 || r.dialer.total() != 0 {
		t.Fatalf("%d in flight, %d dials", n, r.dialer.total())
	}
}

// TestWorkerReleasesSlotsOnPanic: a runner that panics still gives the
// trunk slot back (the deferred release runs while the panic unwinds).
func TestWorkerReleasesSlotsOnPanic(t *testing.T) {
	r := newRig(t, runnerFunc(func(context.Context, telephony.Leg, Job) (Outcome, error) { panic("runner bug") }),
		WorkerConfig{TrunkMaxConcurrent: 1})
	ctx := t.Context()
	r.enqueue(Job{CaseNumber: "777"})
	jobs, err := r.sched.Claim(ctx, 1)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %v %v", jobs, err)
	}
	func() {
		defer func() {
			if p := recover(); p == nil {
				t.Fatal("the runner did not panic")
			}
		}()
		r.w.handle(ctx, ctx, jobs[0])
	}()
	lim := NewLimits(r.sched.rdb, r.sched.prefix)
	trunk, _ := lim.TrunkSlots(1)
	if n, err := lim.Holders(ctx, trunk); err != nil || n != 0 {
		t.Fatalf("%d trunk slots held after a panic (%v)", n, err)
	}
	if r.dialer.total() != 1 {
		t.Fatalf("%d dials", r.dialer.total())
	}
}

func TestCampaignCPS(t *testing.T) {
	a := newAPIRig(t)
	tests := []struct {
		cps float64
		ok  bool
	}{{-1, false}, {0, true}, {0.5, true}, {100, true}, {101, false}}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.cps), func(t *testing.T) {
			_, err := a.camps.Validate(CampaignSpec{CaseNumbers: []string{"1"}, CPS: tc.cps})
			var ve *ValidationError
			switch {
			case tc.ok && err != nil:
				t.Fatalf("cps %v: %v", tc.cps, err)
			case !tc.ok && (!errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "cps"):
				t.Fatalf("cps %v: %v", tc.cps, err)
			}
		})
	}
	rec := a.do(http.MethodPost, "/api/v1/campaigns", "application/json", `{"name":"m","case_numbers":["1"],"cps":0.5,"concurrency":2}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var camp Campaign
	if err := json.Unmarshal(rec.Body.Bytes(), &camp); err != nil {
		t.Fatal(err)
	}
	got := a.do(http.MethodGet, "/api/v1/campaigns/"+camp.ID, "", "")
	var c Campaign
	if err := json.Unmarshal(got.Body.Bytes(), &c); err != nil || got.Code != http.StatusOK || c.CPS != 0.5 || c.Concurrency != 2 {
		t.Fatalf("get: %d %s", got.Code, got.Body)
	}
	for body, code := range map[string]int{"cps=0.25": http.StatusCreated, "cps=fast": http.StatusBadRequest, "cps=200": http.StatusBadRequest} {
		rec := a.do(http.MethodPost, "/api/v1/campaigns?"+body, "text/csv", "case_number\n2\n")
		if rec.Code != code {
			t.Errorf("csv %s: %d %s", body, rec.Code, rec.Body)
		}
	}
}

// BenchmarkLimitsRoundTrip: what the shared limits add to one call start
// on the real Redis: one rate reservation and one semaphore acquire and
// release (three round trips).
func BenchmarkLimitsRoundTrip(b *testing.B) {
	rdb, prefix := redistest.Real(b)
	l := NewLimits(rdb, prefix)
	ctx := b.Context()
	rate := Rate{Key: prefix + keyRate + "bench", Every: time.Microsecond}
	sem, _ := l.TrunkSlots(1000)
	i := 0
	for b.Loop() {
		if _, err := l.Reserve(ctx, []Rate{rate}, 0, time.Hour); err != nil {
			b.Fatal(err)
		}
		holder := "bench/" + fmt.Sprint(i)
		i++
		if ok, err := l.Acquire(ctx, sem, holder, time.Minute); err != nil || !ok {
			b.Fatal(ok, err)
		}
		if err := l.Release(ctx, sem, holder); err != nil {
			b.Fatal(err)
		}
	}
}
