package dtmf

import "time"

// DefaultMergeWindow is how far apart the two copies of one key press may
// arrive by different routes. In-band detection lags RFC 4733 by about
// 40 ms; INFO and RTP travel different paths; 200 ms is still shorter than
// two real presses of the same key.
const DefaultMergeWindow = 200 * time.Millisecond

// maxPresses bounds the Merger's memory; a window never holds more.
const maxPresses = 16

type press struct {
	digit   rune
	at      time.Time
	sources uint8 // bit set of Source values already seen for this press
}

// Merger deduplicates key presses that arrive by more than one route (a
// phone that sends RFC 4733 and leaves the tone in the audio; a gateway
// that sends INFO and RFC 4733). The same key from a different route within
// Window of a press is the same press; the same key again from the same
// route is a new press. The zero value is ready to use; a Merger is not safe
// for concurrent use.
type Merger struct {
	// Window is the duplicate window; 0 means DefaultMergeWindow.
	Window time.Duration

	presses []press
}

// Add reports whether ev is a new key press (true) or another copy of one
// already reported (false). at is when the event was received, on any
// monotonic clock (time.Now() in production).
func (m *Merger) Add(ev Event, at time.Time) bool {
	window := m.Window
	if window <= 0 {
		window = DefaultMergeWindow
	}
	m.prune(at, window)
	bit := uint8(1) << (ev.Source & 7)
	best := -1
	var bestDist time.Duration
	for i, p := range m.presses {
		if p.digit != ev.Digit || p.sources&bit != 0 {
			continue
		}
		dist := absDuration(at.Sub(p.at))
		if dist <= window && (best < 0 || dist < bestDist) {
			best, bestDist = i, dist
		}
	}
	if best >= 0 {
		m.presses[best].sources |= bit
		return false
	}
	if len(m.presses) == maxPresses {
		m.presses = append(m.presses[:0], m.presses[1:]...)
	}
	m.presses = append(m.presses, press{digit: ev.Digit, at: at, sources: bit})
	return true
}

// prune drops presses too old to match anything arriving at now.
func (m *Merger) prune(now time.Time, window time.Duration) {
	keep := m.presses[:0]
	for _, p := range m.presses {
		if now.Sub(p.at) <= window {
			keep = append(keep, p)
		}
	}
	m.presses = keep
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
