package playout

import (
	"time"

	"hotline/telephony/audio"
)

// MaxLag is how late a tick may be before the Pacer gives up on the
// missed ticks (a GC pause, an overloaded host) instead of letting the
// sender burst; the timestamp jump tells the receiver what happened.
const MaxLag = 3 * audio.FrameDuration

// Pacer is a sender's clock: tick n is due at epoch+n·20ms on the
// monotonic clock and carries RTP timestamp ts0+n·160, so drift does not
// accumulate and timestamps keep running through silence (RFC 3550
// §5.1). One goroutine uses it; Stop it when done.
type Pacer struct {
	epoch time.Time
	n     int64
	timer *time.Timer
}

// NewPacer returns a pacer whose tick 0 is due at epoch.
func NewPacer(epoch time.Time) *Pacer {
	return &Pacer{epoch: epoch, timer: time.NewTimer(time.Hour)}
}

// Tick is the current tick's number: the sender's RTP timestamp is
// ts0 + Tick()·FrameSamples.
func (p *Pacer) Tick() int64 { return p.n }

// Offset is the current tick's time from the epoch.
func (p *Pacer) Offset() time.Duration { return time.Duration(p.n) * audio.FrameDuration }

// Next moves to the following tick.
func (p *Pacer) Next() { p.n++ }

// Wait sleeps until the current tick is due; false if stop closed first.
// A tick more than MaxLag overdue skips to the tick playing now.
func (p *Pacer) Wait(stop <-chan struct{}) bool {
	due := p.epoch.Add(time.Duration(p.n) * audio.FrameDuration)
	if wait := time.Until(due); wait > 0 {
		p.timer.Reset(wait)
		select {
		case <-p.timer.C:
		case <-stop:
			return false
		}
	} else if -wait > MaxLag {
		p.n = int64(time.Since(p.epoch) / audio.FrameDuration)
	}
	return true
}

// Resume puts a sender that was idle (silence suppression) back on the
// grid at the tick playing now, never reusing a tick's timestamp.
func (p *Pacer) Resume() {
	p.n = max(p.n, int64(time.Since(p.epoch)/audio.FrameDuration))
}

// Stop releases the pacer's timer.
func (p *Pacer) Stop() { p.timer.Stop() }
