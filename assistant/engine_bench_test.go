package assistant_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"hotline/assistant"
	"hotline/assistant/redistest"
)

// BenchmarkTurn measures one full turn — keypad input "1" (the debt
// report) on a verified call → reply text — against the real Redis: load
// session, eino graph (understand → policy with a case lookup → act),
// privacy check, compare-and-set save, audit of five disclosures. Each
// call takes ten turns, then a fresh verified call is set up (untimed),
// so sessions stay the size of a real call. Reports p50/p99 per turn.
func BenchmarkTurn(b *testing.B) {
	rdb, prefix := redistest.Real(b)
	r := newRig(b, rdb, prefix, tuesday10, nil)
	ctx := context.Background()
	const turnsPerCall = 10
	var call string
	newCall := func(i int) {
		call = fmt.Sprintf("bench-%d", i)
		if _, err := r.eng.Start(ctx, assistant.Call{ID: call, Direction: "inbound", Leg: "sip"}); err != nil {
			b.Fatal(err)
		}
		for _, k := range []string{"12345678#", "02011980"} {
			if _, err := r.eng.Handle(ctx, call, keys(k)); err != nil {
				b.Fatal(err)
			}
		}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%turnsPerCall == 0 {
			b.StopTimer()
			newCall(i)
			b.StartTimer()
		}
		t0 := time.Now()
		turn, err := r.eng.Handle(ctx, call, keys("1"))
		lat = append(lat, time.Since(t0))
		if err != nil || len(turn.Reply.Disclosures) == 0 {
			b.Fatalf("turn: %v (disclosures %d)", err, len(turn.Reply.Disclosures))
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
