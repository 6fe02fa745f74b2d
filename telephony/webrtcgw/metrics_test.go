package webrtcgw

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/telemetry"
	"hotline/telephony/telemetry/telemetrytest"
)

// TestMetricsOfACall: a pion-to-pion call through the gateway moves its
// metrics as a SIP call does: the call is active while up and counted by
// cause at the end, RTP flows both ways at 20 ms intervals, the caller's
// RFC 4733 key is counted and the bot's reply to it is timed, and the
// receive statistics (jitter) are sampled once at the end.
func TestMetricsOfACall(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	replied := make(chan error, 1)
	g := newTestGateway(t, Config{Metrics: telemetry.New(reg)}, telephony.HandlerFunc(
		func(ctx context.Context, leg telephony.Leg) error {
			for ev := range leg.Events() {
				if ev.Kind == telephony.EventDTMF {
					// The reply to the key: a 200 ms tone.
					replied <- leg.Play(ctx, frameReader{audio.NewFrameReader(audio.Tone(700, -6, 1600, audio.Rate))})
				}
			}
			return nil
		}))
	c, leg := dial(t, g, 126)

	active := func() float64 {
		t.Helper()
		m := telemetrytest.Series(t, reg, "hotline_calls_active", "direction", "inbound", "leg", "webrtc")
		if m == nil {
			t.Fatal("no calls_active series")
		}
		return m.GetGauge().GetValue()
	}
	if n := active(); n != 1 {
		t.Errorf("calls_active during the call = %v, want 1", n)
	}
	// Both sides send audio once connected; let some flow.
	for deadline := time.Now().Add(10 * time.Second); telemetrytest.Counter(t, reg, "hotline_rtp_packets_total", "leg", "webrtc", "dir", "in") < 10; {
		if time.Now().After(deadline) {
			t.Fatal("no RTP reached the gateway")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.press("7")
	if err := wait(t, replied, "the reply to the key"); err != nil {
		t.Fatalf("reply: %v", err)
	}
	c.close()
	<-leg.Done()

	if n := active(); n != 0 {
		t.Errorf("calls_active after the call = %v, want 0", n)
	}
	for _, tc := range []struct {
		name     string
		labels   []string
		min, max float64
	}{
		{"hotline_calls_total", []string{"direction", "inbound", "leg", "webrtc", "cause", "caller_hung_up"}, 1, 1},
		{"hotline_dtmf_digits_total", []string{"source", "rfc4733"}, 1, 1},
		{"hotline_rtp_packets_total", []string{"leg", "webrtc", "dir", "in"}, 10, 1e6},
		{"hotline_rtp_packets_total", []string{"leg", "webrtc", "dir", "out"}, 10, 1e6},
	} {
		if got := telemetrytest.Counter(t, reg, tc.name, tc.labels...); got < tc.min || got > tc.max {
			t.Errorf("%s%v = %v, want %v..%v", tc.name, tc.labels, got, tc.min, tc.max)
		}
	}
	if m := telemetrytest.Series(t, reg, "hotline_rtp_lost_packets_total", "leg", "webrtc"); m != nil && m.GetCounter().GetValue() > 5 {
		t.Errorf("%v packets lost on loopback", m.GetCounter().GetValue())
	}
	reply := telemetrytest.Histogram(t, reg, "hotline_dtmf_reply_latency_seconds", "leg", "webrtc")
	if reply.GetSampleCount() != 1 || reply.GetSampleSum() <= 0 || reply.GetSampleSum() > 1 {
		t.Errorf("dtmf reply latency: %d samples, sum %vs; want one under 1 s", reply.GetSampleCount(), reply.GetSampleSum())
	}
	send := telemetrytest.Histogram(t, reg, "hotline_rtp_send_interval_seconds", "leg", "webrtc")
	out := telemetrytest.Counter(t, reg, "hotline_rtp_packets_total", "leg", "webrtc", "dir", "out")
	if n := float64(send.GetSampleCount()); n < out-2 || n > out {
		t.Errorf("%v send intervals for %v packets sent", n, out)
	}
	if mean := send.GetSampleSum() / float64(send.GetSampleCount()); mean < 0.018 || mean > 0.022 {
		t.Errorf("mean send interval %.4fs, want 20 ms", mean)
	}
	if jit := telemetrytest.Histogram(t, reg, "hotline_rtp_jitter_seconds", "leg", "webrtc"); jit.GetSampleCount() != 1 {
		t.Errorf("jitter sampled %d times, want once per call", jit.GetSampleCount())
	}
}

// TestMetricsOfAnAcceptedLeg: a leg the console accepts (a consultant's
// browser, outbound) is counted by its direction and its end cause.
func TestMetricsOfAnAcceptedLeg(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	g := newTestGateway(t, Config{Metrics: telemetry.New(reg)}, nil)
	c := newClient(t, 101)
	t.Cleanup(c.close)
	ans, leg, err := g.Accept(context.Background(), c.offer(), telephony.LegInfo{Direction: telephony.Outbound})
	if err != nil {
		t.Fatal(err)
	}
	c.answer(ans)
	if m := telemetrytest.Series(t, reg, "hotline_calls_active", "direction", "outbound", "leg", "webrtc"); m == nil || m.GetGauge().GetValue() != 1 {
		t.Fatalf("calls_active{outbound} = %v, want 1", m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := leg.Hangup(ctx, telephony.CauseTransferred); err != nil {
		t.Fatal(err)
	}
	if got := telemetrytest.Counter(t, reg, "hotline_calls_total", "direction", "outbound", "leg", "webrtc", "cause", "transferred"); got != 1 {
		t.Errorf("calls_total{outbound, transferred} = %v, want 1", got)
	}
	if m := telemetrytest.Series(t, reg, "hotline_calls_active", "direction", "outbound", "leg", "webrtc"); m.GetGauge().GetValue() != 0 {
		t.Errorf("calls_active{outbound} after hangup = %v, want 0", m.GetGauge().GetValue())
	}
}
