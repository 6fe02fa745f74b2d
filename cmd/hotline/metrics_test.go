package main

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMetricsEndpointAfterACall: a sipp caller keys in the case number
// and date of birth over RFC 4733; /metrics then shows the call ended
// by cause, its digits, the bot's replies timed, the verification, the
// engine's turns and RTP both ways, next to the Go and process metrics.
func TestMetricsEndpointAfterACall(t *testing.T) {
	needTool(t, "sipp")
	t.Parallel() // its own instance
	s := startServe(t)
	keys := "12345678#" + "02011980"
	runSipp(t, s, callerScenario(t, pause(noticesPlay)+rfc4733Keys(keys)+pause(2*time.Second), 2), "-rtp_echo")
	s.waitEnded(t)

	var m map[string]float64
	deadline := time.Now().Add(10 * time.Second)
	for { // the call's teardown (and its counters) may trail its API record
		m = scrape(t, s.http)
		if m[`hotline_calls_total{cause="caller_hung_up",direction="inbound",leg="sip"}`] == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // polling a real server's asynchronous teardown
	}
	for _, c := range []struct {
		series string
		min    float64
	}{
		{`hotline_calls_total{cause="caller_hung_up",direction="inbound",leg="sip"}`, 1},
		{`hotline_calls_active{direction="inbound",leg="sip"}`, 0},
		{`hotline_sip_responses_total{code="200",method="INVITE"}`, 1},
		{`hotline_dtmf_digits_total{source="rfc4733"}`, float64(len(keys))},
		{`hotline_rtp_packets_total{dir="in",leg="sip"}`, 100},
		{`hotline_rtp_packets_total{dir="out",leg="sip"}`, 100},
		{`hotline_rtp_send_interval_seconds_count{leg="sip"}`, 100},
		{`hotline_dtmf_reply_latency_seconds_count{leg="sip"}`, 1},
		{`hotline_rtp_jitter_seconds_count{leg="sip"}`, 1},
		{`hotline_verifications_total{outcome="verified"}`, 1},
		{`hotline_engine_turn_seconds_count`, 3},
		{`hotline_engine_node_seconds_count{node="understand"}`, 3},
		{`go_goroutines`, 1},
		{`process_resident_memory_bytes`, 1},
	} {
		v, ok := m[c.series]
		if !ok || v < c.min {
			t.Errorf("%s = %v (present %v), want >= %v", c.series, v, ok, c.min)
		}
	}
	if v := m[`hotline_calls_active{direction="inbound",leg="sip"}`]; v != 0 {
		t.Errorf("calls_active = %v after the call", v)
	}
	if v := m[`hotline_redis_errors_total{command="get"}`]; v != 0 {
		t.Errorf("redis errors on a healthy store: %v", v)
	}
}

// scrape reads /metrics in the text format into series → value.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("/metrics: %s\n%s", resp.Status, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}
