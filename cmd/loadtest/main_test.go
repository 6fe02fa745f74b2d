package main

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

const exposition = `# HELP hotline_rtp_send_interval_seconds x
# TYPE hotline_rtp_send_interval_seconds histogram
hotline_rtp_send_interval_seconds_bucket{leg="sip",le="0.019"} 0
hotline_rtp_send_interval_seconds_bucket{leg="sip",le="0.021"} 90
hotline_rtp_send_interval_seconds_bucket{leg="sip",le="0.025"} 100
hotline_rtp_send_interval_seconds_bucket{leg="sip",le="+Inf"} 100
hotline_rtp_send_interval_seconds_sum{leg="sip"} 2
hotline_rtp_send_interval_seconds_count{leg="sip"} 100
hotline_rtp_send_interval_seconds_bucket{leg="webrtc",le="0.019"} 0
hotline_rtp_send_interval_seconds_bucket{leg="webrtc",le="0.021"} 0
hotline_rtp_send_interval_seconds_bucket{leg="webrtc",le="0.025"} 0
hotline_rtp_send_interval_seconds_bucket{leg="webrtc",le="+Inf"} 0
hotline_rtp_send_interval_seconds_count{leg="webrtc"} 0
hotline_dtmf_reply_latency_seconds_bucket{leg="sip",le="0.1"} 1
hotline_dtmf_reply_latency_seconds_bucket{leg="sip",le="+Inf"} 4
hotline_dtmf_reply_latency_seconds_count{leg="sip"} 4
go_goroutines 12
`

func TestHistogramQuantiles(t *testing.T) {
	h, err := parseHistograms(bufio.NewScanner(strings.NewReader(exposition)))
	if err != nil {
		t.Fatal(err)
	}
	send := h["hotline_rtp_send_interval_seconds"]
	if send == nil || send.count != 100 {
		t.Fatalf("send histogram %+v", send)
	}
	for _, tc := range []struct {
		q    float64
		want string
	}{
		{0.45, "20.0 ms"}, // halfway through the 19–21 ms bucket
		{0.95, "23.0 ms"},
		{0.99, "24.6 ms"},
	} {
		if got := send.quantileText(tc.q); got != tc.want {
			t.Errorf("send q%.2f = %s, want %s", tc.q, got, tc.want)
		}
	}
	if got := h["hotline_dtmf_reply_latency_seconds"].quantileText(0.95); got != "> 100 ms" {
		t.Errorf("reply p95 = %s, want > 100 ms (in the +Inf bucket)", got)
	}
	if got := h["missing"].quantileText(0.5); got != "–" {
		t.Errorf("missing histogram = %s", got)
	}
}

func TestCallerScenarioKeysOnlyWhenTheHoldAllows(t *testing.T) {
	long := callerScenario(50 * time.Second)
	if n := strings.Count(long, "play_pcap_audio"); n != len(keys) {
		t.Errorf("%d keys in a 50 s call, want %d", n, len(keys))
	}
	if !strings.Contains(long, "dtmf_2833_pound.pcap") || !strings.Contains(long, `<pause milliseconds="40000"/>`) {
		t.Error("keys missing or not after the notices")
	}
	short := callerScenario(5 * time.Second)
	if strings.Contains(short, "play_pcap_audio") || !strings.Contains(short, `<pause milliseconds="5000"/>`) {
		t.Error("a 5 s call keys, or does not hold 5 s")
	}
}
