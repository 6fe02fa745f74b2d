// Package audio is the sample plumbing shared by the SIP and WebRTC legs
// and the speech renderer: 8 kHz mono 16-bit PCM in 20 ms frames, G.711
// µ-law/A-law companding, anti-aliased resampling and WAV files.
package audio

import "time"

// Telephony audio format: narrowband G.711, 20 ms packets (RFC 3551 §4.5.14).
const (
	Rate          = 8000                  // samples per second
	FrameDuration = 20 * time.Millisecond // one RTP packet's worth
	FrameSamples  = Rate / 50             // 160 samples per frame
)

// Frame is one 20 ms frame of 8 kHz mono PCM.
type Frame [FrameSamples]int16

// Duration returns the playing time of n samples at Rate.
func Duration(samples int) time.Duration {
	return time.Duration(samples) * time.Second / Rate
}
