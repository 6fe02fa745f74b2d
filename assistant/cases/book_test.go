package cases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"hotline/assistant/redistest"
	"hotline/dialogs"
)

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustCount(t *testing.T, ctx context.Context, b *Book) int64 {
	t.Helper()
	n, err := b.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// numbered returns janCase with another number and fees.
func numbered(n int, fees int64) Case {
	c := janCase()
	c.Number = fmt.Sprintf("%08d", n)
	c.Fees = fees
	return c
}

func TestBookImportGet(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := ctxT(t)
		b := NewBook(rdb, prefix, testOpts())
		anna := numbered(11111111, 0)
		anna.LastPayment, anna.NextInstallment = nil, nil
		if err := b.Import(ctx, []Case{janCase(), anna}); err != nil {
			t.Fatal(err)
		}
		if n := mustCount(t, ctx, b); n != 2 {
			t.Errorf("Count = %d, want 2", n)
		}
		got, err := b.Get(ctx, "12345678")
		if err != nil {
			t.Fatal(err)
		}
		equalCases(t, []Case{got}, []Case{janCase()})
		got, err = b.Get(ctx, "11111111")
		if err != nil || got.LastPayment != nil || got.NextInstallment != nil {
			t.Errorf("Get(anna) = %+v, %v", got, err)
		}
		d, err := b.FindCase(ctx, "12345678")
		if err != nil || d.Balance() != 149978 || d.BankAccount != "12109010140000071219812874" || d.NextInstallment.Amount != 25000 {
			t.Errorf("FindCase = %+v, %v", d, err)
		}
		bd, err := b.BirthDate(ctx, "12345678")
		if err != nil || !bd.Equal(day(1980, 1, 2)) {
			t.Errorf("BirthDate = %v, %v", bd, err)
		}
		// The keys are where the documented layout says.
		if n, err := rdb.Exists(ctx, prefix+"case:12345678").Result(); err != nil || n != 1 {
			t.Errorf("key %scase:12345678 exists = %d, %v", prefix, n, err)
		}
		if ok, err := rdb.SIsMember(ctx, prefix+"cases", "11111111").Result(); err != nil || !ok {
			t.Errorf("11111111 in %scases = %v, %v", prefix, ok, err)
		}
	})
}

func TestBookNotFound(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := ctxT(t)
		b := NewBook(rdb, prefix, testOpts())
		if err := b.Import(ctx, []Case{janCase()}); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"87654321", "", "1234", "12345678*", "1234567890123"} {
			if _, err := b.Get(ctx, n); !errors.Is(err, ErrNotFound) || !errors.Is(err, dialogs.ErrCaseNotFound) {
				t.Errorf("Get(%q) error = %v, want ErrNotFound", n, err)
			}
			if _, err := b.FindCase(ctx, n); !errors.Is(err, dialogs.ErrCaseNotFound) {
				t.Errorf("FindCase(%q) error = %v, want dialogs.ErrCaseNotFound", n, err)
			}
			if _, err := b.BirthDate(ctx, n); !errors.Is(err, ErrNotFound) {
				t.Errorf("BirthDate(%q) error = %v, want ErrNotFound", n, err)
			}
		}
	})
}

func TestBookImportAllOrNothing(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := ctxT(t)
		b := NewBook(rdb, prefix, testOpts())
		bad := numbered(3, 0)
		bad.Principal = -100
		err := b.Import(ctx, []Case{numbered(1, 0), numbered(2, 0), bad})
		wantProblems(t, err, `case 3: principal: "-1.00" is negative`)
		if n := mustCount(t, ctx, b); n != 0 {
			t.Errorf("Count after a failed import = %d, want 0", n)
		}
		if _, err := b.Get(ctx, "00000001"); !errors.Is(err, ErrNotFound) {
			t.Errorf("case 1 of a failed import: %v, want ErrNotFound", err)
		}
		err = b.Import(ctx, []Case{numbered(1, 0), numbered(1, 5)})
		wantProblems(t, err, `case 2: case_number: "00000001" is already case 1`)
		if n := mustCount(t, ctx, b); n != 0 {
			t.Errorf("Count after a duplicate import = %d, want 0", n)
		}
		if err := b.Import(ctx, nil); err != nil {
			t.Errorf("empty import: %v", err)
		}
	})
}

// Redis does not roll back a MULTI whose command fails at EXEC; Import must
// refuse before queuing when the number set would make SADD fail.
func TestBookImportRedisFailureWritesNothing(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := ctxT(t)
		b := NewBook(rdb, prefix, testOpts())
		if err := rdb.Set(ctx, prefix+"cases", "not a set", 0).Err(); err != nil {
			t.Fatal(err)
		}
		err := b.Import(ctx, []Case{numbered(1, 0), numbered(2, 0)})
		if err == nil {
			t.Fatal("import over a wrong-type number set succeeded")
		}
		n, err := rdb.Exists(ctx, prefix+"case:00000001", prefix+"case:00000002").Result()
		if err != nil || n != 0 {
			t.Errorf("%d case keys written by a failed import (%v), want 0", n, err)
		}
	})
}

func TestBookImportReplaces(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := ctxT(t)
		b := NewBook(rdb, prefix, testOpts())
		if err := b.Import(ctx, []Case{numbered(1, 100), numbered(2, 100)}); err != nil {
			t.Fatal(err)
		}
		if err := b.Import(ctx, []Case{numbered(2, 200), numbered(3, 200)}); err != nil {
			t.Fatal(err)
		}
		// A failed replacement leaves the previous figures.
		bad := numbered(4, 300)
		bad.Phone = "x"
		if err := b.Import(ctx, []Case{numbered(1, 300), numbered(2, 300), bad}); err == nil {
			t.Fatal("import with an invalid case succeeded")
		}
		for n, fees := range map[string]int64{"00000001": 100, "00000002": 200, "00000003": 200} {
			c, err := b.Get(ctx, n)
			if err != nil || c.Fees != fees {
				t.Errorf("case %s fees = %d, %v; want %d", n, c.Fees, err, fees)
			}
		}
		if n := mustCount(t, ctx, b); n != 3 {
			t.Errorf("Count = %d, want 3", n)
		}
	})
}

// While imports replace a batch of cases generation by generation, a reader
// taking a consistent snapshot (MULTI of GETs) must always see one
// generation, never a mix: the replacement is one transaction.
func TestBookReplaceIsAtomic(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	rdb, prefix := redistest.Real(t)
	ctx := ctxT(t)
	b := NewBook(rdb, prefix, testOpts())
	// Large enough that a pipeline without MULTI spans several of Redis's
	// socket reads, so a non-atomic Import shows up here as a mixed read.
	const size, generations = 1000, 20
	batch := func(gen int64) []Case {
		cs := make([]Case, size)
		for i := range cs {
			cs[i] = numbered(i+1, gen)
		}
		return cs
	}
	if err := b.Import(ctx, batch(0)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		defer close(done)
		for gen := int64(1); gen <= generations; gen++ {
			if err := b.Import(ctx, batch(gen)); err != nil {
				done <- err
				return
			}
		}
	}()
	keys := make([]string, size)
	for i := range keys {
		keys[i] = b.caseKey(fmt.Sprintf("%08d", i+1))
	}
	reads := 0
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished = true
		default:
		}
		cmds, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Get(ctx, k)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		reads++
		first := feesOf(t, cmds[0].(*redis.StringCmd))
		for i, cmd := range cmds[1:] {
			if f := feesOf(t, cmd.(*redis.StringCmd)); f != first {
				t.Fatalf("read %d saw a mix: case 1 from generation %d, case %d from %d", reads, first, i+2, f)
			}
		}
	}
	c, err := b.Get(ctx, "00000001")
	if err != nil || c.Fees != generations {
		t.Errorf("after all imports fees = %d, %v; want %d", c.Fees, err, generations)
	}
	t.Logf("%d consistent snapshots during %d replacements", reads, generations)
}

func feesOf(t *testing.T, cmd *redis.StringCmd) int64 {
	t.Helper()
	var c Case
	raw, err := cmd.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c.Fees
}
