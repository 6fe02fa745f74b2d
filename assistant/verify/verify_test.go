package verify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"hotline/assistant/audit"
	"hotline/assistant/redistest"
	"hotline/dialogs"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// dates is an in-memory BirthDates.
type dates map[string]time.Time

func (d dates) BirthDate(_ context.Context, cn string) (time.Time, error) {
	t, ok := d[cn]
	if !ok {
		return time.Time{}, fmt.Errorf("case lookup: %w", dialogs.ErrCaseNotFound)
	}
	return t, nil
}

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

const (
	caseA    = "123456"
	dobA     = "15031980"
	wrongDOB = "01011990"
)

type fixture struct {
	svc   *Service
	log   *audit.Log
	clock *clock
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	rdb, prefix := redistest.Real(t)
	c := new(clock)
	c.Set(time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC))
	log := audit.NewLog(rdb, prefix, 0)
	ds := dates{caseA: time.Date(1980, 3, 15, 0, 0, 0, 0, time.UTC), "777777": time.Date(2001, 12, 1, 0, 0, 0, 0, time.UTC)}
	svc := New(rdb, prefix, ds, log, Config{Now: c.Now})
	return fixture{svc: svc, log: log, clock: c}
}

func (f fixture) verify(t *testing.T, cn, dob string) dialogs.Verdict {
	t.Helper()
	v, err := f.svc.Verify(t.Context(), "call-1", cn, dob)
	if err != nil {
		t.Fatalf("Verify(%s, %s): %v", cn, dob, err)
	}
	return v
}

func (f fixture) locked(t *testing.T, cn string) bool {
	t.Helper()
	l, err := f.svc.Locked(t.Context(), cn)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestVerifyAndLockout(t *testing.T) {
	f := newFixture(t)
	if v := f.verify(t, caseA, dobA); v != dialogs.VerdictVerified {
		t.Fatalf("right pair: %v", v)
	}
	for i := range 4 {
		if v := f.verify(t, caseA, wrongDOB); v != dialogs.VerdictRejected {
			t.Fatalf("wrong date %d: %v", i, v)
		}
	}
	if f.locked(t, caseA) {
		t.Fatal("locked after 4 failures")
	}
	if v := f.verify(t, caseA, dobA); v != dialogs.VerdictVerified {
		t.Fatalf("right pair after 4 failures: %v", v)
	}
	if v := f.verify(t, caseA, wrongDOB); v != dialogs.VerdictRejected {
		t.Fatalf("fifth wrong date: %v", v)
	}
	if !f.locked(t, caseA) {
		t.Fatal("not locked after 5 failures")
	}
	// Locked: only the right pair learns about it.
	if v := f.verify(t, caseA, dobA); v != dialogs.VerdictLocked {
		t.Errorf("right pair on a locked case: %v, want VerdictLocked", v)
	}
	if v := f.verify(t, caseA, wrongDOB); v != dialogs.VerdictRejected {
		t.Errorf("wrong date on a locked case: %v, want VerdictRejected", v)
	}
	// Other cases are unaffected.
	if v := f.verify(t, "777777", "01122001"); v != dialogs.VerdictVerified {
		t.Errorf("other case: %v", v)
	}

	es, err := f.log.Read(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var results []string
	lockouts := 0
	for _, e := range es {
		switch e.Type {
		case audit.TypeVerification:
			results = append(results, e.Fields["result"])
			if e.CallID != "call-1" || e.CaseNumber == "" {
				t.Errorf("verification event lacks call/case: %+v", e)
			}
		case audit.TypeLockout:
			lockouts++
			if e.CaseNumber != caseA || e.Fields["failures"] != "5" {
				t.Errorf("lockout event: %+v", e)
			}
		}
	}
	want := []string{"verified", "rejected", "rejected", "rejected", "rejected", "verified", "rejected", "locked", "rejected", "verified"}
	if fmt.Sprint(results) != fmt.Sprint(want) {
		t.Errorf("audited results %v, want %v", results, want)
	}
	if lockouts != 1 {
		t.Errorf("%d lockout events, want 1", lockouts)
	}

	if err := f.svc.Unlock(t.Context(), caseA); err != nil {
		t.Fatal(err)
	}
	if f.locked(t, caseA) {
		t.Error("still locked after Unlock")
	}
	if v := f.verify(t, caseA, dobA); v != dialogs.VerdictVerified {
		t.Errorf("after Unlock: %v", v)
	}
	last, err := f.log.Read(t.Context(), 2)
	if err != nil || last[0].Type != audit.TypeUnlock {
		t.Errorf("unlock not audited: %+v %v", last, err)
	}
}

func TestOldFailuresDoNotCount(t *testing.T) {
	f := newFixture(t)
	for range 4 {
		f.verify(t, caseA, wrongDOB)
		f.clock.Advance(time.Hour)
	}
	// The first failure is now 24h01m old: out of the 24h window.
	f.clock.Advance(20*time.Hour + time.Minute)
	f.verify(t, caseA, wrongDOB)
	if f.locked(t, caseA) {
		t.Fatal("locked although only 4 failures are within the window")
	}
	n, err := f.svc.Failures(t.Context(), caseA)
	if err != nil || n != 4 {
		t.Fatalf("Failures = %d, %v; want 4", n, err)
	}
	f.verify(t, caseA, wrongDOB)
	if !f.locked(t, caseA) {
		t.Fatal("not locked with 5 failures within the window")
	}
}

func TestUnknownCaseIsRejectedAndCounted(t *testing.T) {
	f := newFixture(t)
	for range 5 {
		// Even a plausible date is rejected: there is nothing to match.
		if v := f.verify(t, "999999", dobA); v != dialogs.VerdictRejected {
			t.Fatalf("unknown case: %v", v)
		}
	}
	if !f.locked(t, "999999") {
		t.Error("failures on an unknown number not counted like a real case")
	}
	if v := f.verify(t, "999999", dobA); v != dialogs.VerdictRejected {
		t.Errorf("unknown locked case: %v, want VerdictRejected", v)
	}
	for _, bad := range []string{"", "12 34", "{1}", string(make([]byte, 65))} {
		if v := f.verify(t, bad, dobA); v != dialogs.VerdictRejected {
			t.Errorf("malformed case %q: %v", bad, v)
		}
	}
	es, err := f.log.Read(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(es); got != 6+1+4 { // 6 attempts, 1 lockout, 4 malformed attempts
		t.Errorf("%d audit events, want 11", got)
	}
}

func TestMalformedDateIsAFailure(t *testing.T) {
	f := newFixture(t)
	for _, dob := range []string{"", "1503198", "150319800", "15-03-1980", "19800315"} {
		if v := f.verify(t, caseA, dob); v != dialogs.VerdictRejected {
			t.Errorf("date %q: %v", dob, v)
		}
	}
	if !f.locked(t, caseA) {
		t.Error("5 malformed dates did not lock the case")
	}
}

func TestConcurrentFailuresLockOnce(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	const n = 20
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			v, err := f.svc.Verify(ctx, fmt.Sprintf("call-%d", i), caseA, wrongDOB)
			if err == nil && v != dialogs.VerdictRejected {
				err = fmt.Errorf("verdict %v", v)
			}
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if !f.locked(t, caseA) {
		t.Fatal("not locked")
	}
	es, err := f.log.Read(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	lockouts, attempts := 0, 0
	for _, e := range es {
		switch e.Type {
		case audit.TypeLockout:
			lockouts++
		case audit.TypeVerification:
			attempts++
		}
	}
	if lockouts != 1 || attempts != n {
		t.Errorf("%d lockout events and %d attempts audited, want 1 and %d", lockouts, attempts, n)
	}
	if c, _ := f.svc.Failures(ctx, caseA); c != n {
		t.Errorf("Failures = %d, want %d", c, n)
	}
}

// failingDates fails every lookup with an infrastructure error.
type failingDates struct{}

func (failingDates) BirthDate(context.Context, string) (time.Time, error) {
	return time.Time{}, errors.New("store down")
}

func TestLookupErrorIsNotAFailure(t *testing.T) {
	rdb, prefix := redistest.Real(t)
	svc := New(rdb, prefix, failingDates{}, audit.NewLog(rdb, prefix, 0), Config{})
	v, err := svc.Verify(t.Context(), "c", caseA, dobA)
	if err == nil || v != dialogs.VerdictRejected {
		t.Fatalf("Verify with store down = %v, %v", v, err)
	}
	if n, _ := svc.Failures(t.Context(), caseA); n != 0 {
		t.Errorf("infrastructure error counted as a failure")
	}
}

func TestKeyTTLs(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	for range 5 {
		f.verify(t, caseA, wrongDOB)
	}
	for _, key := range []string{f.svc.failsKey(caseA), f.svc.lockKey(caseA)} {
		ttl := f.svc.rdb.PTTL(ctx, key).Val()
		if ttl <= 23*time.Hour || ttl > 24*time.Hour {
			t.Errorf("%s PTTL = %v, want about 24h", key, ttl)
		}
	}
}
