package webrtcgw

import (
	"errors"
	"strings"
	"testing"
)

const chromeOffer = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"a=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\n" +
	"a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" +
	"a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n" +
	"a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n" +
	"a=rtpmap:111 opus/48000/2\r\na=rtpmap:63 red/48000/2\r\na=rtpmap:9 G722/8000\r\n" +
	"a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\n" +
	"a=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n"

func TestCheckOffer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		offer string
		ok    bool
	}{
		{"chrome", chromeOffer, true},
		{"dynamic PCMU", strings.NewReplacer(" 0 8 13", " 96 8 13", "rtpmap:0 PCMU", "rtpmap:96 PCMU").Replace(chromeOffer), true},
		{"no PCMU", strings.NewReplacer(" 0 8 13", " 8 13", "a=rtpmap:0 PCMU/8000\r\n", "").Replace(chromeOffer), false},
		{"rejected audio", strings.Replace(chromeOffer, "m=audio 9", "m=audio 0", 1), false},
		{"video only", strings.Replace(chromeOffer, "m=audio", "m=video", 1), false},
		{"empty", "", false},
		{"not sdp", "{\"sdp\":1}", false},
		{"huge", chromeOffer + strings.Repeat("a=x:y\r\n", maxOfferSize/7), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkOffer(tc.offer)
			if (err == nil) != tc.ok {
				t.Fatalf("checkOffer = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrBadOffer) {
				t.Errorf("error %v is not ErrBadOffer", err)
			}
		})
	}
}

// FuzzCheckOffer: whatever a page posts, checkOffer returns (no panic)
// and only ever fails with ErrBadOffer.
func FuzzCheckOffer(f *testing.F) {
	f.Add(chromeOffer)
	f.Add("v=0\r\nm=audio 1 RTP/AVP 0\r\n")
	f.Add("v=0\r\no=- 0 0 IN IP4 0\r\ns=-\r\nt=0 0\r\nm=audio 9 x 96\r\na=rtpmap:96 pcmu/8000\r\n")
	f.Fuzz(func(t *testing.T, offer string) {
		if err := checkOffer(offer); err != nil && !errors.Is(err, ErrBadOffer) {
			t.Fatalf("checkOffer(%q) = %v", offer, err)
		}
	})
}
