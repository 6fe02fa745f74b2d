package sipgw

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
)

// offer builds an SDP offer from lines, CRLF-terminated.
func offer(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

func sdpHead(c string) []string {
	return []string{"v=0", "o=caller 1 1 IN IP4 " + c, "s=-", "c=IN IP4 " + c, "t=0 0"}
}

func TestNegotiate(t *testing.T) {
	head := sdpHead("192.0.2.10")
	tests := []struct {
		name      string
		body      []byte
		codec     codec
		dtmf      bool
		dtmfPT    uint8
		remote    string
		dir       string
		errReason string
	}{
		{
			name:   "PCMU PCMA and telephone-event 101 (sipp)",
			body:   offer(append(head, "m=audio 6000 RTP/AVP 0 8 101", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15")...),
			codec:  codec{codecPCMU, 0},
			dtmf:   true,
			dtmfPT: 101,
			remote: "192.0.2.10:6000",
			dir:    "sendrecv",
		},
		{
			name:   "PCMA only",
			body:   offer(append(head, "m=audio 6000 RTP/AVP 8", "a=rtpmap:8 PCMA/8000")...),
			codec:  codec{codecPCMA, 8},
			remote: "192.0.2.10:6000",
			dir:    "sendrecv",
		},
		{
			name:   "PCMU preferred even when listed after PCMA",
			body:   offer(append(head, "m=audio 6000 RTP/AVP 8 0")...),
			codec:  codec{codecPCMU, 0},
			remote: "192.0.2.10:6000",
			dir:    "sendrecv",
		},
		{
			name:   "telephone-event at 96",
			body:   offer(append(head, "m=audio 6000 RTP/AVP 0 96", "a=rtpmap:96 telephone-event/8000")...),
			codec:  codec{codecPCMU, 0},
			dtmf:   true,
			dtmfPT: 96,
			remote: "192.0.2.10:6000",
			dir:    "sendrecv",
		},
		{
			name: "telephone-event 48k skipped, 8k at 126 taken (Chrome)",
			body: offer(append(head, "m=audio 6000 RTP/AVP 111 0 8 110 126",
				"a=rtpmap:111 opus/48000/2", "a=rtpmap:110 telephone-event/48000",
				"a=rtpmap:126 telephone-event/8000", "a=sendrecv")...),
			codec:  codec{codecPCMU, 0},
			dtmf:   true,
			dtmfPT: 126,
			remote: "192.0.2.10:6000",
			dir:    "sendrecv",
		},
		{
			name: "media-level c= wins; sendonly",
			body: offer("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
				"m=audio 7000 RTP/AVP 0", "c=IN IP4 198.51.100.7", "a=sendonly"),
			codec:  codec{codecPCMU, 0},
			remote: "198.51.100.7:7000",
			dir:    "sendonly",
		},
		{
			name:   "hold address 0.0.0.0 leaves remote unknown",
			body:   offer(append(sdpHead("0.0.0.0"), "m=audio 7000 RTP/AVP 0", "a=inactive")...),
			codec:  codec{codecPCMU, 0},
			remote: "invalid AddrPort",
			dir:    "inactive",
		},
		{
			name:   "video first, audio second",
			body:   offer(append(head, "m=video 9000 RTP/AVP 96", "a=rtpmap:96 VP8/90000", "m=audio 6002 RTP/AVP 0")...),
			codec:  codec{codecPCMU, 0},
			remote: "192.0.2.10:6002",
			dir:    "sendrecv",
		},
		{name: "no body", body: nil, errReason: reasonNoSDP},
		{name: "garbage", body: []byte("hello, this is not SDP\r\n"), errReason: reasonBadSDP},
		{name: "no audio m-line", body: offer(append(head, "m=video 9000 RTP/AVP 96")...), errReason: reasonNoAudio},
		{name: "audio rejected (port 0)", body: offer(append(head, "m=audio 0 RTP/AVP 0")...), errReason: reasonNoAudio},
		{name: "SRTP only", body: offer(append(head, "m=audio 6000 RTP/SAVP 0")...), errReason: reasonNoAudio},
		{
			name:      "G729 only",
			body:      offer(append(head, "m=audio 6000 RTP/AVP 18 101", "a=rtpmap:18 G729/8000", "a=rtpmap:101 telephone-event/8000")...),
			errReason: reasonNoCodec,
		},
		{
			name:      "PCMU at a wrong clock rate",
			body:      offer(append(head, "m=audio 6000 RTP/AVP 0", "a=rtpmap:0 PCMU/16000")...),
			errReason: reasonNoCodec,
		},
		{
			name:      "no connection line",
			body:      offer("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0", "m=audio 6000 RTP/AVP 0"),
			errReason: reasonNoAddr,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := negotiate(tt.body)
			if tt.errReason != "" {
				var oe *offerError
				if !errors.As(err, &oe) || oe.Reason != tt.errReason {
					t.Fatalf("negotiate error = %v, want reason %q", err, tt.errReason)
				}
				return
			}
			if err != nil {
				t.Fatalf("negotiate: %v", err)
			}
			if p.Codec != tt.codec || p.DTMF != tt.dtmf || p.DTMF && p.DTMFPT != tt.dtmfPT {
				t.Errorf("got codec %+v dtmf %v/%d, want %+v %v/%d", p.Codec, p.DTMF, p.DTMFPT, tt.codec, tt.dtmf, tt.dtmfPT)
			}
			if p.Remote.String() != tt.remote || p.Direction != tt.dir {
				t.Errorf("remote %s dir %s, want %s %s", p.Remote, p.Direction, tt.remote, tt.dir)
			}
		})
	}
}

func TestBuildAnswerRoundTrip(t *testing.T) {
	p, err := negotiate(offer(append(sdpHead("192.0.2.10"),
		"m=audio 6000 RTP/AVP 8 0 96", "a=rtpmap:96 telephone-event/8000", "a=sendonly")...))
	if err != nil {
		t.Fatal(err)
	}
	local := localMedia{Addr: netip.MustParseAddr("203.0.113.5"), Port: 12000, SessionID: 42, Version: 7}
	body, err := buildAnswer(local, p)
	if err != nil {
		t.Fatal(err)
	}
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		t.Fatalf("our answer does not parse: %v\n%s", err, body)
	}
	md := sd.MediaDescriptions[0]
	if got := strings.Join(md.MediaName.Formats, " "); got != "0 96" {
		t.Errorf("answer formats %q, want exactly the chosen codec and DTMF: \"0 96\"", got)
	}
	if md.MediaName.Port.Value != 12000 || sd.ConnectionInformation.Address.Address != "203.0.113.5" {
		t.Errorf("answer addr %s:%d", sd.ConnectionInformation.Address.Address, md.MediaName.Port.Value)
	}
	if _, ok := md.Attribute("recvonly"); !ok {
		t.Errorf("answer to sendonly must be recvonly:\n%s", body)
	}
	if sd.Origin.SessionVersion != 7 || sd.Origin.SessionID != 42 {
		t.Errorf("origin %+v", sd.Origin)
	}
	if strings.Contains(string(body), "%!") || !strings.HasSuffix(string(body), "\r\n") {
		t.Errorf("malformed answer:\n%q", body)
	}
	// Our answer, read back as an offer, negotiates to the same thing.
	back, err := negotiate(body)
	if err != nil || back.Codec != p.Codec || back.DTMFPT != 96 {
		t.Errorf("answer re-negotiates to %+v, %v", back, err)
	}
}

func TestBuildOffer(t *testing.T) {
	body, err := buildOffer(localMedia{Addr: netip.MustParseAddr("2001:db8::1"), Port: 10002, SessionID: 1, Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	p, err := negotiate(body)
	if err != nil {
		t.Fatalf("offer does not negotiate: %v\n%s", err, body)
	}
	if p.Codec.Name != codecPCMU || !p.DTMF || p.DTMFPT != ptOfferDTMF || len(p.Audio) != 2 {
		t.Errorf("offer negotiates to %+v", p)
	}
	if !strings.Contains(string(body), "c=IN IP6 2001:db8::1") {
		t.Errorf("IPv6 contact not announced as IP6:\n%s", body)
	}
}

// FuzzNegotiate: no input crashes negotiation, and every accepted offer
// yields an answer that parses and negotiates back to the same codec.
func FuzzNegotiate(f *testing.F) {
	f.Add(offer(append(sdpHead("192.0.2.10"), "m=audio 6000 RTP/AVP 0 8 101", "a=rtpmap:101 telephone-event/8000")...))
	f.Add(offer(append(sdpHead("192.0.2.10"), "m=audio 6000 RTP/AVP 18", "a=rtpmap:18 G729/8000")...))
	f.Add(offer(append(sdpHead("::1"), "m=audio 1 RTP/AVP 8 126", "a=rtpmap:126 telephone-event/8000", "a=inactive")...))
	f.Add([]byte("v=0\r\nm=audio 99999999999 RTP/AVP 0\r\n"))
	f.Add([]byte{})
	local := localMedia{Addr: netip.MustParseAddr("127.0.0.1"), Port: 10000, SessionID: 1, Version: 1}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := negotiate(body)
		if err != nil {
			var oe *offerError
			if !errors.As(err, &oe) {
				t.Fatalf("error is not an offerError: %v", err)
			}
			return
		}
		if p.Codec.Name != codecPCMU && p.Codec.Name != codecPCMA {
			t.Fatalf("accepted codec %+v", p.Codec)
		}
		ans, err := buildAnswer(local, p)
		if err != nil {
			t.Fatalf("buildAnswer: %v", err)
		}
		back, err := negotiate(ans)
		if err != nil || back.Codec != p.Codec || back.DTMF != p.DTMF || back.DTMFPT != p.DTMFPT {
			t.Fatalf("answer %q negotiates to %+v, %v; want %+v", ans, back, err, p)
		}
	})
}
