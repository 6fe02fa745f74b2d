package dtmf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// A minimal classic-pcap reader for the sipp RFC 4733 captures: 24-byte
// global header, 16-byte record headers, Ethernet (optionally 802.1Q) /
// IPv4 / UDP / RTP. Enough for test fixtures; not a general parser.

const sippPcapDir = "/usr/share/sip-tester"

func readPcapRTP(path string) ([]Packet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 24 {
		return nil, errors.New("pcap: short global header")
	}
	var order binary.ByteOrder
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d: // µs or ns resolution, little-endian file
		order = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		order = binary.BigEndian
	default:
		return nil, fmt.Errorf("pcap: bad magic %x", b[:4])
	}
	if link := order.Uint32(b[20:24]); link != 1 {
		return nil, fmt.Errorf("pcap: link type %d, want Ethernet", link)
	}
	var out []Packet
	for off := 24; off < len(b); {
		if off+16 > len(b) {
			return nil, errors.New("pcap: short record header")
		}
		incl := int(order.Uint32(b[off+8 : off+12]))
		off += 16
		if off+incl > len(b) {
			return nil, errors.New("pcap: short record")
		}
		p, ok, err := rtpFromEthernet(b[off : off+incl])
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, p)
		}
		off += incl
	}
	return out, nil
}

func rtpFromEthernet(f []byte) (Packet, bool, error) {
	if len(f) < 14 {
		return Packet{}, false, errors.New("short ethernet frame")
	}
	etherType, ip := binary.BigEndian.Uint16(f[12:14]), f[14:]
	if etherType == 0x8100 && len(f) >= 18 { // 802.1Q tag
		etherType, ip = binary.BigEndian.Uint16(f[16:18]), f[18:]
	}
	if etherType != 0x0800 {
		return Packet{}, false, nil
	}
	if len(ip) < 20 || ip[0]>>4 != 4 {
		return Packet{}, false, errors.New("bad IPv4 header")
	}
	ihl := int(ip[0]&0x0f) * 4
	if ip[9] != 17 || len(ip) < ihl+8 {
		return Packet{}, false, nil // not UDP
	}
	udp := ip[ihl:]
	udpLen := int(binary.BigEndian.Uint16(udp[4:6]))
	if udpLen < 8 || udpLen > len(udp) {
		return Packet{}, false, errors.New("bad UDP length")
	}
	return parseRTP(udp[8:udpLen])
}

func parseRTP(r []byte) (Packet, bool, error) {
	if len(r) < 12 || r[0]>>6 != 2 {
		return Packet{}, false, errors.New("not RTP v2")
	}
	hdr := 12 + 4*int(r[0]&0x0f)
	if r[0]&0x10 != 0 { // header extension
		if len(r) < hdr+4 {
			return Packet{}, false, errors.New("short RTP extension")
		}
		hdr += 4 + 4*int(binary.BigEndian.Uint16(r[hdr+2:hdr+4]))
	}
	end := len(r)
	if r[0]&0x20 != 0 && end > 0 { // padding
		end -= int(r[end-1])
	}
	if hdr > end {
		return Packet{}, false, errors.New("short RTP packet")
	}
	return Packet{
		Marker:         r[1]&0x80 != 0,
		PayloadType:    r[1] & 0x7f,
		SequenceNumber: binary.BigEndian.Uint16(r[2:4]),
		Timestamp:      binary.BigEndian.Uint32(r[4:8]),
		Payload:        r[hdr:end],
	}, true, nil
}

// sippFiles maps each shipped capture to the key it carries.
var sippFiles = map[string]rune{
	"dtmf_2833_0.pcap": '0', "dtmf_2833_1.pcap": '1', "dtmf_2833_2.pcap": '2', "dtmf_2833_3.pcap": '3',
	"dtmf_2833_4.pcap": '4', "dtmf_2833_5.pcap": '5', "dtmf_2833_6.pcap": '6', "dtmf_2833_7.pcap": '7',
	"dtmf_2833_8.pcap": '8', "dtmf_2833_9.pcap": '9', "dtmf_2833_star.pcap": '*', "dtmf_2833_pound.pcap": '#',
}

func sippPcaps(t *testing.T) map[string][]Packet {
	t.Helper()
	if _, err := os.Stat(sippPcapDir); err != nil {
		if os.Getenv("HOTLINE_E2E") == "1" {
			t.Fatalf("sipp captures missing (%v) and HOTLINE_E2E=1", err)
		}
		t.Skipf("sipp captures not installed (%v); the inline copy still runs", err)
	}
	out := map[string][]Packet{}
	for name := range sippFiles {
		pk, err := readPcapRTP(filepath.Join(sippPcapDir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = pk
	}
	return out
}

// TestSippPcaps decodes the real captures: one key per file, exactly once.
func TestSippPcaps(t *testing.T) {
	files := sippPcaps(t)
	for name, want := range sippFiles {
		t.Run(name, func(t *testing.T) {
			pk := files[name]
			if len(pk) != 10 {
				t.Fatalf("%d RTP packets, want 10", len(pk))
			}
			var d Decoder
			var got []Event
			for _, p := range pk {
				if p.PayloadType != 101 {
					t.Fatalf("PT %d, want 101", p.PayloadType)
				}
				ev, ok, err := d.Packet(p)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					got = append(got, ev)
				}
			}
			if len(got) != 1 || got[0].Digit != want || got[0].Source != SourceRFC4733 {
				t.Fatalf("events %+v, want one %q", got, want)
			}
			if got[0].Timestamp != pk[0].Timestamp || got[0].Duration != 0 {
				t.Errorf("event %+v: want timestamp %d and duration 0 (sipp starts at 0)", got[0], pk[0].Timestamp)
			}
		})
	}
}

// TestSippInlineCopyMatchesFile keeps the inline fixture honest.
func TestSippInlineCopyMatchesFile(t *testing.T) {
	files := sippPcaps(t)
	real := files["dtmf_2833_1.pcap"]
	inline := sippDigit1()
	if len(real) != len(inline) {
		t.Fatalf("file has %d packets, inline copy %d", len(real), len(inline))
	}
	for i := range real {
		r, c := real[i], inline[i]
		if r.Marker != c.Marker || r.PayloadType != c.PayloadType || r.SequenceNumber != c.SequenceNumber ||
			r.Timestamp != c.Timestamp || string(r.Payload) != string(c.Payload) {
			t.Errorf("packet %d: file %+v, inline %+v", i, r, c)
		}
	}
}

// sipp replays its pcaps with the timestamps they were captured with, so
// keying the same digit twice in a call repeats an event's timestamp. A
// new start (marker bit) after the event ended is a new press; the
// end-packet repeats and late packets of one press still count once.
func TestSippPcapReplaysRepeatTimestamps(t *testing.T) {
	pcaps := sippPcaps(t)
	name := map[rune]string{'#': "pound", '*': "star"}
	const keys = "12345678#020119801"
	var d Decoder
	got := ""
	for _, k := range keys {
		n, ok := name[k]
		if !ok {
			n = string(k)
		}
		for _, p := range pcaps["dtmf_2833_"+n+".pcap"] {
			ev, ok, err := d.Packet(p)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				got += string(ev.Digit)
			}
		}
	}
	if got != keys {
		t.Fatalf("decoded %q, want %q", got, keys)
	}
}
