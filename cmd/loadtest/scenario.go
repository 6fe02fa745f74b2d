package main

import (
	"fmt"
	"strings"
	"time"
)

// Caller keying, set by flags.
var (
	// dtmfAt is when callers start keying, from the answer: after the
	// greeting and the two notices, which callers cannot interrupt
	// (34.2 s of speech with the built-in voice, more when a loaded host
	// drops late ticks), so the first key barges into the case-number
	// question and the last one (#) gets the reply at once. Keys typed
	// during a notice would time the rest of the notice instead.
	dtmfAt = 40 * time.Second
	// keys are keyed as RFC 4733 events from sipp's pcaps.
	keys = "12345678#"
)

// keyGap is the pause between two keys: a new play_pcap_audio aborts the
// one before, and each pcap lasts about 250 ms.
const keyGap = 400 * time.Millisecond

// afterKeys is the least time left after the last key for the reply.
const afterKeys = 2 * time.Second

// callerScenario is the sipp UAC scenario of a step: INVITE (PCMU, PCMA,
// telephone-event 101), ACK, then keys at dtmfAt if the hold leaves room
// for them and the reply, and BYE at the end of the hold.
func callerScenario(hold time.Duration) string {
	var body strings.Builder
	pause := func(d time.Duration) {
		if d > 0 {
			fmt.Fprintf(&body, "  <pause milliseconds=\"%d\"/>\n", d.Milliseconds())
		}
	}
	keying := time.Duration(len(keys)) * keyGap
	if keys != "" && hold >= dtmfAt+keying+afterKeys {
		pause(dtmfAt)
		for _, k := range keys {
			name := map[rune]string{'#': "pound", '*': "star"}[k]
			if name == "" {
				name = string(k)
			}
			fmt.Fprintf(&body, "  <nop><action><exec play_pcap_audio=\"/usr/share/sip-tester/dtmf_2833_%s.pcap\"/></action></nop>\n", name)
			pause(keyGap)
		}
		pause(hold - dtmfAt - keying)
	} else {
		pause(hold)
	}
	return strings.Replace(scenarioTemplate, "{{BODY}}", body.String(), 1)
}

const scenarioTemplate = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="hotline load caller">
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+48221234567@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:sipp@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 8 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=ptime:20

    ]]>
  </send>

  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>

  <send>
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+48221234567@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:sipp@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>

{{BODY}}
  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+48221234567@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:sipp@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>

  <recv response="200" crlf="true"/>
</scenario>
`
