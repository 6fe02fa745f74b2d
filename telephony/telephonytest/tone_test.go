package telephonytest

import (
	"testing"

	"hotline/telephony/audio"
)

func TestToneShare(t *testing.T) {
	dual := audio.Tone(697, -10, audio.FrameSamples, audio.Rate)
	audio.Mix(dual, audio.Tone(1209, -10, audio.FrameSamples, audio.Rate))
	for _, tc := range []struct {
		name     string
		pcm      []int16
		freq     float64
		min, max float64
	}{
		{"the tone itself", audio.Tone(1000, -6, audio.FrameSamples, audio.Rate), 1000, 0.9, 1.1},
		{"another tone", audio.Tone(440, -6, audio.FrameSamples, audio.Rate), 1000, 0, 0.05},
		{"one of two", dual, 697, 0.35, 0.65},
		{"silence", make([]int16, audio.FrameSamples), 1000, 0, 0},
	} {
		if got := ToneShare(tc.pcm, tc.freq); got < tc.min || got > tc.max {
			t.Errorf("%s: ToneShare = %.3f, want %.2f..%.2f", tc.name, got, tc.min, tc.max)
		}
	}
}
