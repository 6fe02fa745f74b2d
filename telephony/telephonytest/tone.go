package telephonytest

import (
	"math"

	"hotline/telephony/audio"
)

// ToneShare is the share of pcm's energy at freq Hz (Goertzel, 8 kHz):
// ~1 for a pure tone at freq, ~0 for other tones, noise and silence.
// Tests use it to tell which of several tones a leg heard.
func ToneShare(pcm []int16, freq float64) float64 {
	w := 2 * math.Pi * freq / audio.Rate
	coeff := 2 * math.Cos(w)
	var s1, s2, total float64
	for _, v := range pcm {
		x := float64(v)
		s1, s2 = x+coeff*s1-s2, s1
		total += x * x
	}
	if total == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return power / (total * float64(len(pcm)) / 2)
}
