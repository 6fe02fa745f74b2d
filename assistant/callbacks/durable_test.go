package callbacks

import (
	"context"
	"testing"
	"time"

	"hotline/assistant/redistest"
)

// TestCallbacksSurviveARedisCrash: with AOF on and every write fsynced
// (the production setting, see README), a callback booked during a call
// and one scheduled from the form are still due after the redis-server is
// killed (no clean shutdown) and started again on the same data.
func TestCallbacksSurviveARedisCrash(t *testing.T) {
	srv := redistest.StartServer(t, "--appendonly", "yes", "--appendfsync", "always")
	ctx := context.Background()
	s := newService(t, srv.Client(), "hotline:", Config{})
	at := waw(2026, 11, 25, 11, 0)
	if err := s.Book(ctx, "call-1", "12345678", at); err != nil {
		t.Fatal(err)
	}
	form, err := s.Schedule(ctx, Request{Phone: "+48600100200", At: waw(2026, 11, 26, 9, 30), Source: SourceForm})
	if err != nil {
		t.Fatal(err)
	}
	before, err := s.List(ctx, now, now.Add(14*24*time.Hour))
	if err != nil || len(before) != 2 {
		t.Fatalf("before the crash: %v %+v", err, before)
	}

	srv.Kill()
	if _, err := s.List(ctx, now, now.Add(time.Hour)); err == nil {
		t.Fatal("List worked with the server killed")
	}
	srv.Start()

	after, err := s.List(ctx, now, now.Add(14*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 2 {
		t.Fatalf("after the restart %d callbacks, want 2: %+v", len(after), after)
	}
	for i, cb := range after {
		b := before[i]
		if cb.ID != b.ID || !cb.At.Equal(b.At) || cb.Status != b.Status || cb.CaseNumber != b.CaseNumber || cb.Phone != b.Phone {
			t.Errorf("callback %d after the restart = %+v, before %+v", i, cb, b)
		}
	}
	if after[1].ID != form.ID || !after[0].At.Equal(at) {
		t.Errorf("order or identity changed: %+v", after)
	}
	// The slot's capacity counting survived too: the same call rebooking
	// replaces, not duplicates, its booking.
	if err := s.Book(ctx, "call-1", "12345678", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.List(ctx, now, now.Add(14*24*time.Hour)); len(again) != 2 {
		t.Errorf("rebooking after the restart: %+v", again)
	}
}
