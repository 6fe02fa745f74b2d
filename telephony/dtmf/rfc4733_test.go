package dtmf

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// pkt builds a telephone-event packet.
func pkt(pt uint8, seq uint16, ts uint32, marker bool, event uint8, end bool, dur uint16) Packet {
	return Packet{
		PayloadType:    pt,
		SequenceNumber: seq,
		Timestamp:      ts,
		Marker:         marker,
		Payload:        Payload{Event: event, End: end, Volume: 10, Duration: dur}.Append(nil),
	}
}

// sendPress renders one RFC 4733 event the way a sender does: a packet every
// step timestamp units starting with duration first, then the end packet
// repeated ends times. seq is advanced.
func sendPress(pt uint8, seq *uint16, ts uint32, event uint8, first, step, total uint16, ends int) []Packet {
	var out []Packet
	for d := int(first); d < int(total); d += int(step) {
		out = append(out, pkt(pt, *seq, ts, d == int(first), event, false, uint16(d)))
		*seq++
	}
	for range ends {
		out = append(out, pkt(pt, *seq, ts, false, event, true, total))
	}
	*seq++ // repeated end packets share one sequence number (sipp) or not; the decoder must not care
	return out
}

// sippDigit1 is an inline copy of /usr/share/sip-tester/dtmf_2833_1.pcap's
// RTP packets, so the sipp sequence is tested without sipp installed.
func sippDigit1() []Packet {
	var out []Packet
	for i, d := range []uint16{0, 320, 640, 960, 1280, 1600, 1920} {
		out = append(out, pkt(101, 7984+uint16(i), 13280, i == 0, 1, false, d))
	}
	for range 3 {
		out = append(out, pkt(101, 7991, 13280, false, 1, true, 2240))
	}
	return out
}

func decodeAll(t *testing.T, d *Decoder, pk []Packet) []Event {
	t.Helper()
	var out []Event
	for i, p := range pk {
		ev, ok, err := d.Packet(p)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if ok {
			out = append(out, ev)
		}
	}
	return out
}

func digitsOf(evs []Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteRune(e.Digit)
	}
	return b.String()
}

func TestDecoderSequences(t *testing.T) {
	var seq uint16 = 100
	chrome := func(ts uint32, ev uint8) []Packet { return sendPress(126, &seq, ts, ev, 160, 160, 1280, 3) }
	sipp := func(ts uint32, ev uint8) []Packet { return sendPress(101, &seq, ts, ev, 0, 320, 2240, 3) }
	baresip := func(ts uint32, ev uint8) []Packet { return sendPress(101, &seq, ts, ev, 160, 160, 800, 3) }
	concat := func(ps ...[]Packet) []Packet { return slices.Concat(ps...) }
	dropFirst := func(p []Packet, n int) []Packet { return p[n:] }
	dropLast := func(p []Packet, n int) []Packet { return p[:len(p)-n] }

	cases := []struct {
		name string
		pk   []Packet
		want string
	}{
		{"sipp inline copy (start duration 0, end ×3)", sippDigit1(), "1"},
		{"sipp 1 # *", concat(sipp(13280, 1), sipp(92640, 11), sipp(85760+200000, 10)), "1#*"},
		{"chrome PT 126 1 5 9 #", concat(chrome(8000, 1), chrome(10000, 5), chrome(12000, 9), chrome(14000, 11)), "159#"},
		{"baresip starts at 160", concat(baresip(500, 4), baresip(9000, 2)), "42"},
		{"same key twice is two presses", concat(sipp(1000, 5), sipp(5000, 5)), "55"},
		{"A-D keys", concat(sipp(1000, 12), sipp(5000, 13), sipp(9000, 14), sipp(13000, 15)), "ABCD"},
		{"no marker bit at all", func() []Packet {
			p := sipp(1000, 7)
			for i := range p {
				p[i].Marker = false
			}
			return p
		}(), "7"},
		{"lost first packet", dropFirst(sipp(1000, 3), 1), "3"},
		{"only the end packets arrive", dropFirst(sipp(1000, 3), 7), "3"},
		{"lost end packets, then the next key", concat(dropLast(sipp(1000, 8), 3), sipp(5000, 9)), "89"},
		{"lost end packets, same key again", concat(dropLast(sipp(1000, 8), 3), sipp(5000, 8)), "88"},
		{"every packet duplicated", func() []Packet {
			var out []Packet
			for _, p := range sipp(1000, 6) {
				out = append(out, p, p)
			}
			return out
		}(), "6"},
		{"reordered: continuation before the start", func() []Packet {
			p := sipp(1000, 2)
			p[0], p[1] = p[1], p[0]
			return p
		}(), "2"},
		{"late straggler of the previous key after the next began", func() []Packet {
			a, b := sipp(1000, 1), sipp(5000, 2)
			return concat(a[:len(a)-1], b[:2], a[len(a)-1:], b[2:])
		}(), "12"},
		{"timestamp wraps around", concat(sipp(0xFFFFFF00, 1), sipp(0x00000F00, 2)), "12"},
		{"non-DTMF events are ignored", concat(sipp(1000, 16), sipp(3000, 36), sipp(5000, 255), sipp(9000, 4)), "4"},
		{"long press split into segments (RFC 4733 §2.5.1.3)", func() []Packet {
			// A key held 10 s: the first segment reaches 0xFFFF, then a new
			// timestamp continues it; that is still one press.
			seg1 := sendPress(101, &seq, 20000, 5, 0, 400, 0xFFFF, 0)
			seg1 = append(seg1, pkt(101, seq, 20000, false, 5, false, 0xFFFF))
			seg2 := sendPress(101, &seq, 20000+0xFFFF, 5, 400, 400, 14000, 3)
			return concat(seg1, seg2, sipp(200000, 5))
		}(), "55"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d Decoder
			if got := digitsOf(decodeAll(t, &d, c.pk)); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestDecoderEventFields(t *testing.T) {
	var seq uint16
	var d Decoder
	evs := decodeAll(t, &d, sendPress(126, &seq, 4242, 11, 160, 160, 1280, 3))
	want := Event{Digit: '#', Source: SourceRFC4733, Timestamp: 4242, Duration: 20 * time.Millisecond}
	if len(evs) != 1 || evs[0] != want {
		t.Fatalf("got %+v, want %+v", evs, want)
	}
	// A 48 kHz telephone-event (Chrome also offers te/48000).
	d48 := Decoder{ClockRate: 48000}
	evs = decodeAll(t, &d48, sendPress(110, &seq, 1, 0, 960, 960, 4800, 3))
	if len(evs) != 1 || evs[0].Duration != 20*time.Millisecond {
		t.Fatalf("48 kHz: %+v", evs)
	}
}

func TestDecoderMalformed(t *testing.T) {
	var d Decoder
	for _, payload := range [][]byte{nil, {}, {1}, {1, 0x8a}, {1, 0x8a, 0}} {
		_, ok, err := d.Packet(Packet{PayloadType: 101, Timestamp: 1, Payload: payload})
		if !errors.Is(err, ErrShortPayload) || ok {
			t.Errorf("payload %x: ok=%v err=%v, want ErrShortPayload", payload, ok, err)
		}
	}
	// The decoder still works afterwards, and extra bytes are tolerated.
	ev, ok, err := d.Packet(Packet{Timestamp: 1, Payload: []byte{9, 0x0a, 0, 0, 0xde, 0xad}})
	if err != nil || !ok || ev.Digit != '9' {
		t.Fatalf("after errors: %+v %v %v", ev, ok, err)
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	for _, p := range []Payload{
		{Event: 0}, {Event: 11, End: true, Volume: 63, Duration: 0xFFFF}, {Event: 15, Volume: 10, Duration: 160},
	} {
		got, err := ParsePayload(p.Append(nil))
		if err != nil || got != p {
			t.Errorf("%+v round-tripped to %+v, %v", p, got, err)
		}
	}
	// sipp's end packet for '1', byte for byte.
	if got := (Payload{Event: 1, End: true, Volume: 10, Duration: 2240}).Append(nil); string(got) != "\x01\x8a\x08\xc0" {
		t.Errorf("encoded %x", got)
	}
}

func TestDigitEventMapping(t *testing.T) {
	for code := range uint8(16) {
		r, ok := DigitForEvent(code)
		if !ok {
			t.Fatalf("code %d not a digit", code)
		}
		back, ok := EventForDigit(r)
		if !ok || back != code {
			t.Errorf("%d → %q → %d", code, r, back)
		}
	}
	if _, ok := DigitForEvent(16); ok {
		t.Error("16 (flash) mapped to a digit")
	}
	if c, ok := EventForDigit('d'); !ok || c != 15 {
		t.Error("lower-case d")
	}
	if _, ok := EventForDigit('E'); ok {
		t.Error("E mapped")
	}
}
