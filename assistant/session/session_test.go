package session

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"hotline/assistant/redistest"
	"hotline/dialogs"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func sample(id string) *Session {
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	return &Session{
		ID: id, Direction: "inbound", Leg: "sip", StartedAt: at,
		Dialog: dialogs.State{Phase: dialogs.PhaseMenu, Verified: true, CaseNumber: "123456"},
		Transcript: []Line{
			{At: at, Who: WhoBot, Text: "Dzień dobry."},
			{At: at.Add(time.Second), Who: WhoCaller, Text: "123456#"},
		},
		Disclosures: []dialogs.Disclosure{{Kind: dialogs.DiscloseBalance, CaseNumber: "123456", At: at}},
	}
}

func TestRoundTripReal(t *testing.T) {
	rdb, prefix := redistest.Real(t)
	ctx := t.Context()
	st := NewStore(rdb, prefix, time.Hour)
	in := sample("call-1")
	if err := st.Create(ctx, in); err != nil {
		t.Fatal(err)
	}
	if in.Version != 1 || in.UpdatedAt.IsZero() {
		t.Fatalf("after Create: version %d, updated %v", in.Version, in.UpdatedAt)
	}
	got, err := st.LoadFull(ctx, "call-1")
	if err != nil {
		t.Fatal(err)
	}
	// Times come back without the monotonic reading.
	in.UpdatedAt = in.UpdatedAt.Round(0)
	if !reflect.DeepEqual(got, in) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, in)
	}
	if err := st.Create(ctx, sample("call-1")); !errors.Is(err, ErrExists) {
		t.Errorf("second Create: %v, want ErrExists", err)
	}
	if _, err := st.Load(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load missing: %v, want ErrNotFound", err)
	}
	missing := sample("nope")
	missing.Version = 1
	if err := st.Save(ctx, missing); !errors.Is(err, ErrNotFound) {
		t.Errorf("Save missing: %v, want ErrNotFound", err)
	}
}

func TestConcurrentSaveExactlyOneWins(t *testing.T) {
	rdb, prefix := redistest.Real(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	st := NewStore(rdb, prefix, time.Hour)
	for i := range 200 {
		id := fmt.Sprintf("race-%d", i)
		if err := st.Create(ctx, sample(id)); err != nil {
			t.Fatal(err)
		}
		a, err := st.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		b := *a
		a.Termination, b.Termination = "a", "b"
		start := make(chan struct{})
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for j, s := range []*Session{a, &b} {
			wg.Go(func() {
				<-start
				errs[j] = st.Save(ctx, s)
			})
		}
		close(start)
		wg.Wait()
		var won *Session
		for j, err := range errs {
			switch {
			case err == nil:
				if won != nil {
					t.Fatalf("iteration %d: both saves succeeded", i)
				}
				won = []*Session{a, &b}[j]
			case !errors.Is(err, ErrConflict):
				t.Fatalf("iteration %d: save %d: %v", i, j, err)
			}
		}
		if won == nil {
			t.Fatalf("iteration %d: both saves failed: %v", i, errs)
		}
		got, err := st.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 2 || won.Version != 2 || got.Termination != won.Termination {
			t.Fatalf("iteration %d: stored v%d %q, winner v%d %q", i, got.Version, got.Termination, won.Version, won.Termination)
		}
	}
}

func TestTTLSetAndRefreshed(t *testing.T) {
	rdb, prefix := redistest.Real(t)
	ctx := t.Context()
	ttl := 10 * time.Minute
	st := NewStore(rdb, prefix, ttl)
	s := sample("ttl")
	if err := st.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	key := prefix + "session:{ttl}"
	for _, k := range []string{key, key + ":lines"} {
		if pttl := rdb.PTTL(ctx, k).Val(); pttl <= 0 || pttl > ttl {
			t.Fatalf("PTTL of %s after Create = %v, want in (0, %v]", k, pttl, ttl)
		}
	}
	// Shorten the TTL by hand; Save must restore it.
	if err := rdb.PExpire(ctx, key, 5*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	if err := st.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.Append(Line{Who: WhoCaller, Text: "1"})
	if err := st.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	if n := rdb.LLen(ctx, key+":lines").Val(); n != 3 {
		t.Fatalf("transcript list has %d lines, want 3", n)
	}
	if pttl := rdb.PTTL(ctx, key+":lines").Val(); pttl <= 5*time.Second || pttl > ttl {
		t.Fatalf("PTTL of the transcript after Save = %v", pttl)
	}
	pttl := rdb.PTTL(ctx, key).Val()
	if pttl <= 5*time.Second || pttl > ttl {
		t.Fatalf("PTTL after Save = %v, want in (5s, %v]", pttl, ttl)
	}
}

func TestUpdateRetriesConflicts(t *testing.T) {
	rdb, prefix := redistest.Real(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	st := NewStore(rdb, prefix, time.Hour)
	if err := st.Create(ctx, sample("upd")); err != nil {
		t.Fatal(err)
	}
	const n = 20
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := st.Update(ctx, "upd", func(s *Session) error {
				s.Append(Line{Who: WhoSystem, Text: fmt.Sprint(i)})
				return nil
			})
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrConflict):
			t.Fatal(err)
		}
	}
	got, err := st.LoadFull(ctx, "upd")
	if err != nil {
		t.Fatal(err)
	}
	// No lost updates: every successful Update left its line.
	if len(got.Transcript) != 2+ok || got.Version != int64(1+ok) {
		t.Fatalf("%d updates succeeded, transcript has %d lines (v%d)", ok, len(got.Transcript), got.Version)
	}
	boom := errors.New("boom")
	if _, err := st.Update(ctx, "upd", func(*Session) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Update fn error: %v", err)
	}
}

func TestListNewestFirstAndPrunes(t *testing.T) {
	rdb, m, prefix := redistest.Mini(t)
	ctx := t.Context()
	st := NewStore(rdb, prefix, time.Minute)
	base := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for i := range 5 {
		s := sample(fmt.Sprintf("s%d", i))
		s.StartedAt = base.Add(time.Duration(i) * time.Second)
		if err := st.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.List(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if ids := idsOf(got); !reflect.DeepEqual(ids, []string{"s4", "s3", "s2"}) {
		t.Errorf("List(3) = %v", ids)
	}
	// Let s0..s4 expire, except s1 which a Save keeps alive.
	m.FastForward(40 * time.Second)
	s1, err := st.Load(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Save(ctx, s1); err != nil {
		t.Fatal(err)
	}
	m.FastForward(30 * time.Second)
	if _, err := st.Load(ctx, "s0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired Load: %v", err)
	}
	got, err = st.List(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ids := idsOf(got); !reflect.DeepEqual(ids, []string{"s1"}) {
		t.Errorf("List after expiry = %v, want [s1]", ids)
	}
	if n := rdb.ZCard(ctx, prefix+"sessions").Val(); n != 1 {
		t.Errorf("index holds %d entries after pruning, want 1", n)
	}
}

func TestMiniCAS(t *testing.T) {
	rdb, _, prefix := redistest.Mini(t)
	ctx := t.Context()
	st := NewStore(rdb, prefix, time.Minute)
	s := sample("m")
	if err := st.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	stale := *s
	s.Dialog.Phase = dialogs.PhaseEnded
	if err := st.Save(ctx, s); err != nil || s.Version != 2 {
		t.Fatalf("Save: %v, version %d", err, s.Version)
	}
	if err := st.Save(ctx, &stale); !errors.Is(err, ErrConflict) || stale.Version != 1 {
		t.Fatalf("stale Save: %v, version %d; want ErrConflict, 1", err, stale.Version)
	}
	got, err := st.Load(ctx, "m")
	if err != nil || got.Version != 2 || got.Dialog.Phase != dialogs.PhaseEnded {
		t.Fatalf("Load = %+v, %v", got, err)
	}
}

func idsOf(ss []*Session) []string {
	ids := make([]string, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	return ids
}

func BenchmarkLoadSave(b *testing.B) {
	rdb, prefix := redistest.Real(b)
	ctx := b.Context()
	st := NewStore(rdb, prefix, time.Hour)
	if err := st.Create(ctx, sample("bench")); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s, err := st.Load(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Save(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}
