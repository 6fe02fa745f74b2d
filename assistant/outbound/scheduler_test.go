package outbound

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/calendar"
	"hotline/assistant/callbacks"
	"hotline/assistant/redistest"
)

func newCallbacks(t *testing.T, rdb redis.UniversalClient, prefix string, clk *clock) *callbacks.Service {
	t.Helper()
	h, err := calendar.ParseHours(warsaw, "mon-fri 08:00-20:00")
	if err != nil {
		t.Fatal(err)
	}
	cbs, err := callbacks.New(rdb, prefix, callbacks.Config{Hours: h, Location: warsaw, Capacity: 5000, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return cbs
}

func TestSchedulerLifecycle(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := t.Context()
		clk := newClock(wt(2026, 3, 3, 10, 0))
		cbs := newCallbacks(t, rdb, prefix, clk)
		a := NewScheduler(rdb, prefix, cbs, SchedulerConfig{Owner: "a", Lease: time.Minute, Now: clk.Now})
		b := NewScheduler(rdb, prefix, cbs, SchedulerConfig{Owner: "b", Lease: time.Minute, Now: clk.Now})

		cb, err := cbs.Schedule(ctx, callbacks.Request{Phone: "+48600100200", At: wt(2026, 3, 3, 12, 0)})
		if err != nil {
			t.Fatal(err)
		}
		j1, err := a.Enqueue(ctx, Job{CaseNumber: "111", Phone: "+48600100201"}, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		j2, err := a.Enqueue(ctx, Job{CaseNumber: "222"}, wt(2026, 3, 3, 11, 0))
		if err != nil {
			t.Fatal(err)
		}

		// Only j1 is due.
		got, err := b.Claim(ctx, 10)
		if err != nil || len(got) != 1 || got[0].ID != j1.ID || got[0].Status != StatusClaimed {
			t.Fatalf("claim at 10:00: %+v %v", got, err)
		}
		if again, _ := a.Claim(ctx, 10); len(again) != 0 {
			t.Fatalf("claimed twice: %+v", again)
		}
		// Only the owner moves it; Start is idempotent.
		if err := a.Start(ctx, &got[0]); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("start by another owner: %v", err)
		}
		for range 2 {
			if err := b.Start(ctx, &got[0]); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Finish(ctx, &got[0], StatusDone); err != nil {
			t.Fatal(err)
		}
		if err := b.Finish(ctx, &got[0], StatusDone); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("second finish: %v", err)
		}
		if rec, _ := a.Get(ctx, j1.ID); rec.Status != StatusDone {
			t.Fatalf("record status %q", rec.Status)
		}

		// At 12:00 the callback (first) and j2 are due.
		clk.Set(wt(2026, 3, 3, 12, 0))
		got, err = a.Claim(ctx, 10)
		if err != nil || len(got) != 2 || got[0].Kind != KindCallback || got[0].ID != cb.ID || got[0].Phone != "+48600100200" || got[1].ID != j2.ID {
			t.Fatalf("claim at 12:00: %+v %v", got, err)
		}
		// a starts the callback, then "dies" holding both.
		if err := a.Start(ctx, &got[0]); err != nil {
			t.Fatal(err)
		}
		if n, _ := b.RequeueExpired(ctx); n != 0 {
			t.Fatalf("requeued %d live leases", n)
		}
		clk.Add(time.Minute + time.Second)
		if n, err := b.RequeueExpired(ctx); n != 2 || err != nil {
			t.Fatalf("requeued %d (%v), want 2", n, err)
		}
		// The lapsed owner can no longer start or finish.
		if err := a.Start(ctx, &got[1]); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("start after lapse: %v", err)
		}
		if err := a.Finish(ctx, &got[0], StatusDone); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("finish after lapse: %v", err)
		}
		got, err = b.Claim(ctx, 10)
		if err != nil || len(got) != 2 {
			t.Fatalf("b reclaims: %+v %v", got, err)
		}
		// Retry moves the callback to later; the record says so.
		at := wt(2026, 3, 4, 9, 0)
		got[0].Attempts, got[0].Outcome = 1, OutcomeBusy
		if err := b.Start(ctx, &got[0]); err != nil {
			t.Fatal(err)
		}
		if err := b.Retry(ctx, &got[0], at); err != nil {
			t.Fatal(err)
		}
		rec, err := cbs.Get(ctx, cb.ID)
		if err != nil || rec.Status != StatusRetry || rec.Attempts != 1 || rec.Outcome != string(OutcomeBusy) {
			t.Fatalf("callback record %+v %v", rec, err)
		}
		due, _ := cbs.List(ctx, at, at.Add(time.Second))
		if len(due) != 1 || due[0].ID != cb.ID {
			t.Fatalf("callback not due at the retry time: %+v", due)
		}
		// Release hands back the claimed-but-not-started j2, not a dialling job.
		if err := b.Start(ctx, &Job{ID: "nope", Kind: KindAttempt}); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("start of an unknown job: %v", err)
		}
		if n, err := b.Release(ctx); n != 1 || err != nil {
			t.Fatalf("released %d (%v)", n, err)
		}
		if n, _ := b.InFlight(ctx); n != 0 {
			t.Fatalf("in flight after release: %d", n)
		}
		if p, _ := b.Pending(ctx); p != 2 {
			t.Fatalf("pending %d, want 2 (j2 and the callback)", p)
		}
	})
}

func TestSchedulerDropsJobsWithoutRecord(t *testing.T) {
	rdb, _, prefix := redistest.Mini(t)
	ctx := t.Context()
	clk := newClock(wt(2026, 3, 3, 10, 0))
	s := NewScheduler(rdb, prefix, nil, SchedulerConfig{Now: clk.Now})
	j, err := s.Enqueue(ctx, Job{Phone: "+48600100200"}, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	rdb.Del(ctx, s.jobKey(j.ID))
	rdb.ZAdd(ctx, prefix+callbacks.KeyDue, redis.Z{Score: 1, Member: "gone"})
	got, err := s.Claim(ctx, 5)
	if err != nil || len(got) != 0 {
		t.Fatalf("%+v %v", got, err)
	}
	if n, _ := s.InFlight(ctx); n != 0 {
		t.Fatalf("in flight %d", n)
	}
}

func TestSchedulerParkUnpark(t *testing.T) {
	rdb, _, prefix := redistest.Mini(t)
	ctx := t.Context()
	clk := newClock(wt(2026, 3, 3, 10, 0))
	s := NewScheduler(rdb, prefix, nil, SchedulerConfig{Now: clk.Now})
	j, _ := s.Enqueue(ctx, Job{Phone: "+48600100200", CampaignID: "c1"}, clk.Now())
	got, _ := s.Claim(ctx, 1)
	if len(got) != 1 {
		t.Fatal("not claimed")
	}
	if err := s.Park(ctx, &got[0]); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Claim(ctx, 1); len(again) != 0 {
		t.Fatal("a parked job was claimed")
	}
	if n, err := s.Unpark(ctx, "c1"); n != 1 || err != nil {
		t.Fatalf("unpark %d %v", n, err)
	}
	if again, _ := s.Claim(ctx, 1); len(again) != 1 || again[0].ID != j.ID {
		t.Fatalf("after unpark: %+v", again)
	}
}
