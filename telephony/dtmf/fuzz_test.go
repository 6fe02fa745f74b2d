package dtmf

import (
	"encoding/binary"
	"testing"
)

// FuzzDecoder feeds arbitrary packet streams: no panics, no event without a
// valid DTMF code, never two events for one (timestamp, code).
func FuzzDecoder(f *testing.F) {
	var seed []byte
	for _, p := range sippDigit1() {
		seed = append(seed, encodeFuzzPacket(p)...)
	}
	f.Add(seed)
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		type key struct {
			ts   uint32
			code uint8
		}
		seen := map[key]bool{}
		for len(data) >= 6 {
			n := min(int(data[5]%8), len(data)-6)
			p := Packet{Timestamp: binary.BigEndian.Uint32(data[:4]), Marker: data[4]&1 != 0, Payload: data[6 : 6+n]}
			data = data[6+n:]
			ev, ok, err := d.Packet(p)
			if err != nil {
				if ok || len(p.Payload) >= payloadSize {
					t.Fatalf("error %v for a %d-byte payload (ok=%v)", err, len(p.Payload), ok)
				}
				continue
			}
			if !ok {
				continue
			}
			code, valid := EventForDigit(ev.Digit)
			if !valid || code != p.Payload[0] || ev.Timestamp != p.Timestamp {
				t.Fatalf("bad event %+v from %+v", ev, p)
			}
			k := key{p.Timestamp, code}
			if seen[k] {
				// Only possible after 16 newer events pushed it out of memory.
				if len(seen) <= recentEvents {
					t.Fatalf("event %+v reported twice", ev)
				}
			}
			seen[k] = true
		}
	})
}

func encodeFuzzPacket(p Packet) []byte {
	b := binary.BigEndian.AppendUint32(nil, p.Timestamp)
	var m byte
	if p.Marker {
		m = 1
	}
	return append(append(b, m, byte(len(p.Payload))), p.Payload...)
}

// FuzzParseInfo: no panics; success always yields a DTMF key.
func FuzzParseInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("application/dtmf-relay; x=y", []byte("Signal=11"))
	f.Add("text/plain", []byte("5"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		r, d, err := ParseInfo(ct, body)
		if err != nil {
			if r != 0 || d != 0 {
				t.Fatalf("error %v with values %q %v", err, r, d)
			}
			return
		}
		if _, ok := EventForDigit(r); !ok || r >= 'a' {
			t.Fatalf("non-key %q accepted", r)
		}
		if d < 0 {
			t.Fatalf("negative duration %v", d)
		}
	})
}
