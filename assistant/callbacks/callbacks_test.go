package callbacks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"hotline/assistant/calendar"
	"hotline/assistant/redistest"
	"hotline/dialogs"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func waw(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, calendar.Warsaw())
}

// now is the fixed test clock: Tuesday 2026-11-24 10:00 in Warsaw.
var now = waw(2026, 11, 24, 10, 0)

func newService(t *testing.T, rdb redis.UniversalClient, prefix string, cfg Config) *Service {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	s, err := New(rdb, prefix, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func realService(t *testing.T, cfg Config) (*Service, redis.UniversalClient) {
	t.Helper()
	rdb, prefix := redistest.Real(t)
	return newService(t, rdb, prefix, cfg), rdb
}

func TestSlots(t *testing.T) {
	s, _ := realService(t, Config{})
	tests := []struct {
		name string
		now  time.Time
		n    int
		want []time.Time
	}{
		{"same day after lead time", now, 3,
			[]time.Time{waw(2026, 11, 24, 11, 0), waw(2026, 11, 24, 11, 30), waw(2026, 11, 24, 12, 0)}},
		{"lead time rounds up to the next slot", waw(2026, 11, 24, 10, 1), 1,
			[]time.Time{waw(2026, 11, 24, 11, 30)}},
		{"last slot of the day, then next day", waw(2026, 11, 24, 15, 30), 2,
			[]time.Time{waw(2026, 11, 24, 16, 30), waw(2026, 11, 25, 9, 0)}},
		{"after hours on Friday skips the weekend", waw(2026, 11, 27, 16, 1), 2,
			[]time.Time{waw(2026, 11, 30, 9, 0), waw(2026, 11, 30, 9, 30)}},
		{"before opening", waw(2026, 11, 25, 6, 0), 1,
			[]time.Time{waw(2026, 11, 25, 9, 0)}},
		{"Christmas holidays and weekend", waw(2026, 12, 23, 16, 0), 2,
			[]time.Time{waw(2026, 12, 28, 9, 0), waw(2026, 12, 28, 9, 30)}},
		{"Independence Day", waw(2026, 11, 10, 17, 0), 1,
			[]time.Time{waw(2026, 11, 12, 9, 0)}},
		{"across DST start", waw(2026, 3, 27, 16, 30), 1,
			[]time.Time{time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC)}},
		{"none asked", now, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Slots(t.Context(), tt.now, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Slots = %v, want %v", got, tt.want)
			}
			for i := range got {
				if !got[i].Equal(tt.want[i]) {
					t.Errorf("slot %d = %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestSlotsWholeHorizon(t *testing.T) {
	s, _ := realService(t, Config{})
	got, err := s.Slots(t.Context(), now, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// 24 Nov 11:00-16:30 (12) + 25-27 Nov (3×16) + 30 Nov-4 Dec (5×16) +
	// 7 Dec (16) + 8 Dec up to now+14 days = 10:00 (3).
	if len(got) != 159 {
		t.Errorf("%d slots in the horizon, want 159", len(got))
	}
	hours, _ := calendar.ParseHours(calendar.Warsaw(), "mon-fri 09:00-17:00")
	for i, st := range got {
		if !hours.Within(st, st.Add(30*time.Minute)) {
			t.Errorf("slot %v outside hours", st)
		}
		if st.Before(now.Add(time.Hour)) || st.After(now.Add(14*24*time.Hour)) {
			t.Errorf("slot %v outside lead time/horizon", st)
		}
		if i > 0 && !st.After(got[i-1]) {
			t.Errorf("slots out of order at %d", i)
		}
	}
}

func TestBookValidation(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		s := newService(t, rdb, prefix, Config{Horizon: 40 * 24 * time.Hour})
		tests := []struct {
			name     string
			at       time.Time
			wantSlot time.Time // zero: unavailable
		}{
			{"aligned", waw(2026, 11, 24, 11, 0), waw(2026, 11, 24, 11, 0)},
			{"inside a slot rounds down", waw(2026, 11, 24, 16, 15), waw(2026, 11, 24, 16, 0)},
			{"within the booking grace", waw(2026, 11, 24, 10, 55), waw(2026, 11, 24, 10, 30)},
			{"too soon", waw(2026, 11, 24, 10, 45), time.Time{}},
			{"runs past closing", waw(2026, 11, 24, 16, 45), time.Time{}},
			{"before opening", waw(2026, 11, 25, 8, 45), time.Time{}},
			{"saturday", waw(2026, 11, 28, 10, 0), time.Time{}},
			{"wigilia", waw(2026, 12, 24, 10, 0), time.Time{}},
			{"boxing day", waw(2026, 12, 26, 10, 0), time.Time{}},
			{"day before wigilia", waw(2026, 12, 23, 10, 0), waw(2026, 12, 23, 10, 0)},
			{"beyond the horizon", waw(2027, 1, 5, 10, 0), time.Time{}},
			{"zero", time.Time{}, time.Time{}},
		}
		for i, tt := range tests {
			call := fmt.Sprintf("call-%d", i)
			err := s.Book(t.Context(), call, "123456", tt.at)
			if tt.wantSlot.IsZero() {
				if !errors.Is(err, dialogs.ErrSlotUnavailable) {
					t.Errorf("%s: Book = %v, want ErrSlotUnavailable", tt.name, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: Book: %v", tt.name, err)
				continue
			}
			cbs, err := s.List(t.Context(), tt.at, tt.at.Add(time.Second))
			if err != nil || len(cbs) != 1 {
				t.Fatalf("%s: List = %v, %v", tt.name, cbs, err)
			}
			cb := cbs[0]
			if !cb.Slot.Equal(tt.wantSlot) || !cb.At.Equal(tt.at) || cb.CallID != call ||
				cb.CaseNumber != "123456" || cb.Source != SourceCall || cb.Status != StatusScheduled ||
				!cb.CreatedAt.Equal(now) {
				t.Errorf("%s: stored %+v", tt.name, cb)
			}
		}
		if err := s.Book(t.Context(), "", "123456", waw(2026, 11, 24, 11, 0)); !errors.Is(err, ErrInvalid) {
			t.Errorf("empty call id: %v", err)
		}
	})
}

func TestCapacityUnderConcurrency(t *testing.T) {
	s, rdb := realService(t, Config{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	slot := waw(2026, 11, 24, 11, 0)
	const n = 50
	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			// Any time inside the slot counts against it.
			errs <- s.Book(ctx, fmt.Sprintf("call-%d", i), "123456", slot.Add(time.Duration(i%10)*time.Minute))
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
		case !errors.Is(err, dialogs.ErrSlotUnavailable):
			t.Fatal(err)
		}
	}
	if ok != 5 {
		t.Fatalf("%d bookings succeeded, want 5", ok)
	}
	if got := rdb.Get(ctx, s.slotKey(slot)).Val(); got != "5" {
		t.Errorf("slot counter = %q, want 5", got)
	}
	cbs, err := s.List(ctx, slot, slot.Add(time.Hour))
	if err != nil || len(cbs) != 5 {
		t.Errorf("List = %d callbacks, %v; want 5", len(cbs), err)
	}
	slots, err := s.Slots(ctx, now, 1)
	if err != nil || len(slots) != 1 || !slots[0].Equal(slot.Add(30*time.Minute)) {
		t.Errorf("Slots after filling 11:00 = %v, %v; want 11:30", slots, err)
	}
	ttl := rdb.PTTL(ctx, s.slotKey(slot)).Val()
	if ttl <= 0 {
		t.Errorf("slot counter has no expiry (PTTL %v)", ttl)
	}
}

func TestRebookFreesOldSlot(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := t.Context()
		s := newService(t, rdb, prefix, Config{Capacity: 1})
		eleven, noon := waw(2026, 11, 24, 11, 0), waw(2026, 11, 24, 12, 0)
		if err := s.Book(ctx, "A", "111111", eleven); err != nil {
			t.Fatal(err)
		}
		if err := s.Book(ctx, "B", "222222", eleven); !errors.Is(err, dialogs.ErrSlotUnavailable) || !errors.Is(err, ErrSlotFull) {
			t.Fatalf("B into a full slot: %v", err)
		}
		// Same call, same slot: allowed although the slot is full.
		if err := s.Book(ctx, "A", "111111", eleven.Add(5*time.Minute)); err != nil {
			t.Fatalf("A rebooks its own slot: %v", err)
		}
		first, err := s.List(ctx, eleven, noon)
		if err != nil || len(first) != 1 {
			t.Fatalf("List = %v, %v", first, err)
		}
		if err := s.Book(ctx, "A", "111111", noon); err != nil {
			t.Fatal(err)
		}
		if err := s.Book(ctx, "B", "222222", eleven); err != nil {
			t.Fatalf("B after A moved: %v", err)
		}
		old, err := s.Get(ctx, first[0].ID)
		if err != nil || old.Status != StatusReplaced {
			t.Errorf("A's old booking = %+v, %v; want status replaced", old, err)
		}
		all, err := s.List(ctx, eleven, noon.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]time.Time{}
		for _, cb := range all {
			got[cb.CallID] = cb.At
		}
		if len(all) != 2 || !got["A"].Equal(noon) || !got["B"].Equal(eleven) {
			t.Errorf("scheduled = %+v, want A at 12:00 and B at 11:00", all)
		}
		for slot, want := range map[time.Time]string{eleven: "1", noon: "1"} {
			if c := rdb.Get(ctx, s.slotKey(slot)).Val(); c != want {
				t.Errorf("counter %v = %q, want %s", slot, c, want)
			}
		}
	})
}

func TestSchedule(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := t.Context()
		s := newService(t, rdb, prefix, Config{})
		at := waw(2026, 11, 25, 14, 0)
		bad := []Request{
			{At: at},
			{Phone: "48123456789", At: at},
			{Phone: "+48 123 456 789", At: at},
			{Phone: "+48123456789", At: at, Source: "fax"},
			{CaseNumber: "12 34", At: at},
		}
		for _, r := range bad {
			if _, err := s.Schedule(ctx, r); !errors.Is(err, ErrInvalid) {
				t.Errorf("Schedule(%+v) = %v, want ErrInvalid", r, err)
			}
		}
		if _, err := s.Schedule(ctx, Request{Phone: "+48123456789", At: waw(2026, 11, 29, 14, 0)}); !errors.Is(err, dialogs.ErrSlotUnavailable) {
			t.Errorf("Sunday: %v, want ErrSlotUnavailable", err)
		}
		cb, err := s.Schedule(ctx, Request{Phone: "+48123456789", At: at, Source: SourceForm})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, cb.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Phone != "+48123456789" || got.Source != SourceForm || got.Status != StatusScheduled ||
			!got.At.Equal(at) || got.ID != cb.ID || got.CallID != "" {
			t.Errorf("stored %+v", got)
		}
		if _, err := s.Get(ctx, "missing"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get missing: %v", err)
		}
		api, err := s.Schedule(ctx, Request{CaseNumber: "123456", At: at.Add(time.Hour)})
		if err != nil || api.Source != SourceAPI {
			t.Fatalf("API request: %+v, %v", api, err)
		}
		// List is [from, to).
		l, err := s.List(ctx, at, at.Add(time.Hour))
		if err != nil || len(l) != 1 || l[0].ID != cb.ID {
			t.Errorf("List [14:00, 15:00) = %+v, %v", l, err)
		}
		l, err = s.List(ctx, now, now.Add(48*time.Hour))
		if err != nil || len(l) != 2 || l[0].ID != cb.ID || l[1].ID != api.ID {
			t.Errorf("List two days = %+v, %v", l, err)
		}
		// Records expire after Retention; due entries without a record are pruned.
		rdb.Del(ctx, s.recordKey(cb.ID))
		l, err = s.List(ctx, now, now.Add(48*time.Hour))
		if err != nil || len(l) != 1 || rdb.ZCard(ctx, s.dueKey()).Val() != 1 {
			t.Errorf("after the record vanished: %+v, %v", l, err)
		}
	})
}

func TestKeyExpiries(t *testing.T) {
	s, rdb := realService(t, Config{Retention: 48 * time.Hour})
	ctx := t.Context()
	at := waw(2026, 11, 24, 11, 0)
	if err := s.Book(ctx, "A", "1", at); err != nil {
		t.Fatal(err)
	}
	cbs, _ := s.List(ctx, at, at.Add(time.Minute))
	if len(cbs) != 1 {
		t.Fatal("booking not listed")
	}
	// TTLs are relative to the service clock (now = 10:00), whatever the
	// machine's date: record at+48h, slot counter slot+24h, call pointer
	// horizon+24h.
	for key, want := range map[string]time.Duration{
		s.recordKey(cbs[0].ID): 49 * time.Hour,
		s.slotKey(at):          25 * time.Hour,
		s.callKey("A"):         15 * 24 * time.Hour,
	} {
		got := rdb.PTTL(ctx, key).Val()
		if got <= want-time.Minute || got > want {
			t.Errorf("%s PTTL = %v, want about %v", key, got, want)
		}
	}
}
