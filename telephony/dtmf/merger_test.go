package dtmf

import (
	"testing"
	"time"
)

func TestMerger(t *testing.T) {
	type in struct {
		digit rune
		src   Source
		ms    int
	}
	rtp, band, info := SourceRFC4733, SourceInBand, SourceInfo
	cases := []struct {
		name   string
		window time.Duration
		ins    []in
		want   string // one char per input: + new, - duplicate
	}{
		{"rfc4733 then in-band of the same tone", 0, []in{{'5', rtp, 0}, {'5', band, 45}}, "+-"},
		{"in-band first, then late rfc4733", 0, []in{{'5', band, 0}, {'5', rtp, 120}}, "+-"},
		{"info and rfc4733", 0, []in{{'#', info, 0}, {'#', rtp, 30}, {'#', band, 60}}, "+--"},
		{"repeated presses via one route", 0, []in{{'1', rtp, 0}, {'1', rtp, 150}, {'1', rtp, 300}}, "+++"},
		{"two routes, two quick presses", 0, []in{{'1', rtp, 0}, {'1', band, 40}, {'1', rtp, 150}, {'1', band, 190}}, "+-+-"},
		{"in-band copy attaches to the nearer press", 0, []in{{'1', rtp, 0}, {'1', rtp, 150}, {'1', band, 40}, {'1', band, 190}}, "++--"},
		{"different keys are never duplicates", 0, []in{{'1', rtp, 0}, {'2', band, 10}}, "++"},
		{"outside the window", 0, []in{{'3', rtp, 0}, {'3', band, 201}}, "++"},
		{"custom window", 500 * time.Millisecond, []in{{'3', rtp, 0}, {'3', band, 400}}, "+-"},
		{"only one copy per route", 0, []in{{'4', rtp, 0}, {'4', band, 40}, {'4', band, 80}}, "+-+"},
	}
	base := time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := Merger{Window: c.window}
			got := make([]byte, 0, len(c.ins))
			for _, e := range c.ins {
				mark := byte('-')
				if m.Add(Event{Digit: e.digit, Source: e.src}, base.Add(time.Duration(e.ms)*time.Millisecond)) {
					mark = '+'
				}
				got = append(got, mark)
			}
			if string(got) != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestMergerBoundedMemory(t *testing.T) {
	var m Merger
	base := time.Now()
	for i := range 10000 {
		// Many distinct presses inside one window must not grow without bound.
		m.Add(Event{Digit: rune('0' + i%10), Source: SourceRFC4733}, base.Add(time.Duration(i)*time.Microsecond))
	}
	if len(m.presses) > maxPresses {
		t.Fatalf("%d presses kept", len(m.presses))
	}
}
