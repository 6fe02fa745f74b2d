package telemetrytest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"hotline/telephony/telemetry"
)

func TestReadsBackWhatWasRecorded(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := telemetry.New(reg)
	m.CallStarted("sip", "inbound")
	m.CallEnded("sip", "inbound", "failed")
	m.Leg("sip").SendInterval(0.02e9)
	if got := Counter(t, reg, "hotline_calls_total", "direction", "inbound", "leg", "sip", "cause", "failed"); got != 1 {
		t.Errorf("calls_total = %v, want 1", got)
	}
	if s := Series(t, reg, "hotline_calls_total", "direction", "inbound", "leg", "sip"); s != nil {
		t.Error("a series matched with a label missing")
	}
	if s := Series(t, reg, "hotline_calls_active", "direction", "outbound", "leg", "sip"); s != nil {
		t.Error("a series matched another label value")
	}
	if h := Histogram(t, reg, "hotline_rtp_send_interval_seconds", "leg", "sip"); h.GetSampleCount() != 1 || h.GetSampleSum() != 0.02 {
		t.Errorf("send interval: %d samples, sum %v", h.GetSampleCount(), h.GetSampleSum())
	}
}
