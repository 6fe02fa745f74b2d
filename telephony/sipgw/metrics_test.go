package sipgw

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"hotline/telephony"
	"hotline/telephony/telemetry"
	"hotline/telephony/telemetry/telemetrytest"
)

// TestMetricsOfACall: a real call through the gateway moves its metrics:
// the call is active while up and counted by cause at the end, the 200 OK
// is counted, RTP flows both ways at 20 ms intervals, the caller's RFC
// 4733 key is counted and the bot's reply to it is timed, and the
// receive statistics (jitter) are sampled once at the end.
func TestMetricsOfACall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	reg := prometheus.NewPedanticRegistry()
	replied := make(chan struct{})
	gw := startGateway(t, Config{Metrics: telemetry.New(reg)}, telephony.HandlerFunc(
		func(ctx context.Context, leg telephony.Leg) error {
			for ev := range leg.Events() {
				if ev.Kind == telephony.EventDTMF {
					// The reply to the key: a tone, after the greeting below.
					if err := leg.Play(ctx, toneSource(700, 200*time.Millisecond)); err != nil {
						return err
					}
					close(replied)
				}
			}
			return nil
		}))
	phone := startPhone(t, Config{})
	leg, err := phone.Dial(ctx, gw.uri("bot"), nil)
	if err != nil {
		t.Fatal(err)
	}
	active := func() float64 {
		m := metric(t, reg, "hotline_calls_active", "direction", "inbound", "leg", "sip")
		if m == nil {
			t.Fatal("no calls_active series")
		}
		return m.GetGauge().GetValue()
	}
	if n := active(); n != 1 {
		t.Errorf("calls_active during the call = %v, want 1", n)
	}
	// Both sides send silence from the answer on; let some flow.
	for counterValue(t, reg, "hotline_rtp_packets_total", "leg", "sip", "dir", "in") < 10 {
		select {
		case <-ctx.Done():
			t.Fatal("no RTP reached the gateway")
		case <-time.After(20 * time.Millisecond):
		}
	}
	sendRFC4733(t, leg, '7', ptOfferDTMF)
	select {
	case <-replied:
	case <-ctx.Done():
		t.Fatal("the handler never replied to the key")
	}
	if err := leg.Hangup(ctx, telephony.CauseBotHangup); err != nil {
		t.Fatal(err)
	}
	if end := gw.waitEnd(t); end.cause != telephony.CauseCallerHangup {
		t.Fatalf("gateway leg ended %s", end.cause)
	}

	if n := active(); n != 0 {
		t.Errorf("calls_active after the call = %v, want 0", n)
	}
	for _, c := range []struct {
		name   string
		labels []string
		min    float64
		max    float64
	}{
		{"hotline_calls_total", []string{"direction", "inbound", "leg", "sip", "cause", "caller_hung_up"}, 1, 1},
		{"hotline_sip_responses_total", []string{"method", "INVITE", "code", "200"}, 1, 1},
		{"hotline_dtmf_digits_total", []string{"source", "rfc4733"}, 1, 1},
		{"hotline_rtp_packets_total", []string{"leg", "sip", "dir", "in"}, 10, 1e6},
		{"hotline_rtp_packets_total", []string{"leg", "sip", "dir", "out"}, 10, 1e6},
	} {
		got := counterValue(t, reg, c.name, c.labels...)
		if got < c.min || got > c.max {
			t.Errorf("%s%v = %v, want %v..%v", c.name, c.labels, got, c.min, c.max)
		}
	}
	if lost := counterValue(t, reg, "hotline_rtp_lost_packets_total", "leg", "sip"); lost > 5 {
		t.Errorf("%v packets lost on loopback", lost)
	}

	reply := histogram(t, reg, "hotline_dtmf_reply_latency_seconds")
	if reply.GetSampleCount() != 1 || reply.GetSampleSum() <= 0 || reply.GetSampleSum() > 1 {
		t.Errorf("dtmf reply latency: %d samples, sum %vs; want one under 1 s", reply.GetSampleCount(), reply.GetSampleSum())
	}
	send := histogram(t, reg, "hotline_rtp_send_interval_seconds")
	out := counterValue(t, reg, "hotline_rtp_packets_total", "leg", "sip", "dir", "out")
	if n := float64(send.GetSampleCount()); n < out-2 || n > out {
		t.Errorf("%v send intervals for %v packets sent", n, out)
	}
	if mean := send.GetSampleSum() / float64(send.GetSampleCount()); mean < 0.018 || mean > 0.022 {
		t.Errorf("mean send interval %.4fs, want 20 ms", mean)
	}
	if jit := histogram(t, reg, "hotline_rtp_jitter_seconds"); jit.GetSampleCount() != 1 {
		t.Errorf("jitter sampled %d times, want once per call", jit.GetSampleCount())
	}
}

// metric finds the series of name with exactly the given label pairs.
func metric(t *testing.T, g prometheus.Gatherer, name string, labels ...string) *dto.Metric {
	t.Helper()
	return telemetrytest.Series(t, g, name, labels...)
}

func counterValue(t *testing.T, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	return telemetrytest.Counter(t, g, name, labels...)
}

func histogram(t *testing.T, g prometheus.Gatherer, name string) *dto.Histogram {
	t.Helper()
	return telemetrytest.Histogram(t, g, name, "leg", "sip")
}
