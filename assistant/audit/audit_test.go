package audit

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/redistest"
	"hotline/dialogs"
)

func TestAppendRead(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := t.Context()
		l := NewLog(rdb, prefix, 0)
		at := time.Date(2026, 11, 24, 9, 0, 0, 123456789, time.UTC)
		if err := l.Append(ctx, Event{Type: "custom", CallID: "c1", CaseNumber: "123456", At: at,
			Fields: map[string]string{"x": "1", "y": "zażółć"}}); err != nil {
			t.Fatal(err)
		}
		if err := l.Verification(ctx, "c1", "123456", "rejected"); err != nil {
			t.Fatal(err)
		}
		es, err := l.Read(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 2 {
			t.Fatalf("read %d events, want 2", len(es))
		}
		e := es[0]
		if e.ID == "" || e.Type != "custom" || e.CallID != "c1" || e.CaseNumber != "123456" || !e.At.Equal(at) ||
			e.Fields["x"] != "1" || e.Fields["y"] != "zażółć" || len(e.Fields) != 2 {
			t.Errorf("event round trip: %+v", e)
		}
		if es[1].Type != TypeVerification || es[1].Fields["result"] != "rejected" || es[1].At.IsZero() {
			t.Errorf("verification event: %+v", es[1])
		}
		last, err := l.Read(ctx, 1)
		if err != nil || len(last) != 1 || last[0].ID != es[1].ID {
			t.Errorf("Read(1) = %+v, %v; want the newest", last, err)
		}
		// The raw stream carries the documented field names.
		raw, err := rdb.XRange(ctx, prefix+"audit", "-", "+").Result()
		if err != nil || len(raw) != 2 {
			t.Fatalf("XRANGE: %v %v", raw, err)
		}
		for _, f := range []string{"type", "call", "case", "at"} {
			if _, ok := raw[1].Values[f]; !ok {
				t.Errorf("stream entry lacks field %q: %v", f, raw[1].Values)
			}
		}
	})
}

func TestAppendRejects(t *testing.T) {
	rdb, _, prefix := redistest.Mini(t)
	l := NewLog(rdb, prefix, 0)
	for _, f := range []string{"type", "call", "case", "at"} {
		err := l.Append(t.Context(), Event{Type: "x", Fields: map[string]string{f: "v"}})
		if !errors.Is(err, ErrReservedField) {
			t.Errorf("field %q: err %v, want ErrReservedField", f, err)
		}
	}
	if err := l.Append(t.Context(), Event{}); err == nil {
		t.Error("event without type accepted")
	}
	// A bad event in a batch stores nothing.
	err := l.AppendAll(t.Context(), []Event{{Type: "ok"}, {Type: "x", Fields: map[string]string{"at": "v"}}})
	if !errors.Is(err, ErrReservedField) {
		t.Errorf("AppendAll: %v", err)
	}
	if n, _ := rdb.XLen(t.Context(), prefix+"audit").Result(); n != 0 {
		t.Errorf("half a batch stored: %d entries", n)
	}
}

func TestDisclosuresAndLockout(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := t.Context()
		l := NewLog(rdb, prefix, 0)
		at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		ds := []dialogs.Disclosure{
			{Kind: dialogs.DiscloseBalance, CaseNumber: "123456", At: at},
			{Kind: dialogs.DiscloseCreditor, CaseNumber: "123456", At: at},
		}
		spoken := "Do zapłaty pozostało sto złotych na rzecz Banku X."
		if err := l.Disclosures(ctx, "c1", ds, spoken); err != nil {
			t.Fatal(err)
		}
		until := at.Add(24 * time.Hour)
		if err := l.Lockout(ctx, "c2", "654321", 5, until); err != nil {
			t.Fatal(err)
		}
		if err := l.Unlock(ctx, "654321", "operator-7"); err != nil {
			t.Fatal(err)
		}
		es, err := l.Read(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 4 {
			t.Fatalf("%d events, want 4: %+v", len(es), es)
		}
		for i, kind := range []string{"balance", "creditor"} {
			e := es[i]
			if e.Type != TypeDisclosure || e.Fields["kind"] != kind || e.Fields["spoken"] != spoken ||
				e.CaseNumber != "123456" || e.CallID != "c1" || !e.At.Equal(at) {
				t.Errorf("disclosure %d: %+v", i, e)
			}
		}
		if e := es[2]; e.Type != TypeLockout || e.Fields["failures"] != "5" || e.CaseNumber != "654321" ||
			e.Fields["until"] != until.Format(time.RFC3339Nano) {
			t.Errorf("lockout: %+v", e)
		}
		if e := es[3]; e.Type != TypeUnlock || e.Fields["by"] != "operator-7" {
			t.Errorf("unlock: %+v", e)
		}
	})
}

func TestMaxLenTrims(t *testing.T) {
	rdb, prefix := redistest.Real(t)
	ctx := t.Context()
	l := NewLog(rdb, prefix, 10)
	for range 1000 {
		if err := l.Append(ctx, Event{Type: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := rdb.XLen(ctx, prefix+"audit").Result()
	if err != nil {
		t.Fatal(err)
	}
	// MAXLEN ~ trims whole stream nodes (100 entries by default), so the
	// length stays near, not at, the cap.
	if n < 10 || n > 300 {
		t.Errorf("XLEN = %d after 1000 appends with MAXLEN ~10", n)
	}
}
