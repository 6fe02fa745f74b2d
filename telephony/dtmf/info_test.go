package dtmf

import (
	"errors"
	"testing"
	"time"
)

func TestParseInfo(t *testing.T) {
	cases := []struct {
		name, ct, body string
		want           rune
		dur            time.Duration
		err            error
	}{
		{"relay crlf", "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', 160 * time.Millisecond, nil},
		{"relay lf only (sipp scenario)", "application/dtmf-relay", "Signal=5\nDuration=160", '5', 160 * time.Millisecond, nil},
		{"relay spaces and pound", "application/dtmf-relay", "Signal= #\r\nDuration= 250\r\n", '#', 250 * time.Millisecond, nil},
		{"relay star", "application/dtmf-relay", "Signal=*\r\n", '*', 0, nil},
		{"relay 10 means star", "application/dtmf-relay", "Signal=10\r\nDuration=100", '*', 100 * time.Millisecond, nil},
		{"relay 11 means pound", "application/dtmf-relay", "Signal=11", '#', 0, nil},
		{"relay 12 means A", "application/dtmf-relay", "Signal=12", 'A', 0, nil},
		{"relay lower-case d", "application/dtmf-relay", "Signal=d", 'D', 0, nil},
		{"relay case-insensitive keys and type", "Application/DTMF-Relay; charset=utf-8", "signal=0\r\nduration=80", '0', 80 * time.Millisecond, nil},
		{"relay duration first", "application/dtmf-relay", "Duration=200\r\nSignal=9", '9', 200 * time.Millisecond, nil},
		{"relay bad duration ignored", "application/dtmf-relay", "Signal=3\r\nDuration=abc", '3', 0, nil},
		{"relay absurd duration ignored", "application/dtmf-relay", "Signal=3\r\nDuration=9223372036854775807", '3', 0, nil},
		{"relay no signal", "application/dtmf-relay", "Duration=160", 0, 0, ErrMalformedInfo},
		{"relay empty signal", "application/dtmf-relay", "Signal=\r\n", 0, 0, ErrMalformedInfo},
		{"relay bad signal", "application/dtmf-relay", "Signal=E", 0, 0, ErrMalformedInfo},
		{"relay code 16 is not DTMF", "application/dtmf-relay", "Signal=16", 0, 0, ErrMalformedInfo},
		{"relay empty body", "application/dtmf-relay", "", 0, 0, ErrMalformedInfo},
		{"dtmf plain", "application/dtmf", "5", '5', 0, nil},
		{"dtmf with newline", "application/dtmf", "#\r\n", '#', 0, nil},
		{"dtmf code", "application/dtmf", "10", '*', 0, nil},
		{"dtmf in relay form", "application/dtmf", "Signal=7\r\nDuration=100", '7', 100 * time.Millisecond, nil},
		{"dtmf two keys", "application/dtmf", "55", 0, 0, ErrMalformedInfo},
		{"dtmf empty", "application/dtmf", "", 0, 0, ErrMalformedInfo},
		{"other type", "application/sdp", "v=0", 0, 0, ErrUnsupportedContentType},
		{"no type", "", "Signal=5", 0, 0, ErrUnsupportedContentType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, d, err := ParseInfo(c.ct, []byte(c.body))
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err %v, want %v", err, c.err)
				}
				return
			}
			if err != nil || r != c.want || d != c.dur {
				t.Fatalf("got %q %v %v, want %q %v", r, d, err, c.want, c.dur)
			}
		})
	}
}
