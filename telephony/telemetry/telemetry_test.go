package telemetry

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestNilMetricsAreNoOps(t *testing.T) {
	var m *Metrics
	m.CallStarted("sip", "inbound")
	m.CallEnded("sip", "inbound", "caller_hung_up")
	m.SIPResponse("INVITE", 200)
	m.Digit("rfc4733")
	m.Transfer("sip", "bridge", TransferOK, time.Second)
	l := m.Leg("sip")
	if l != nil {
		t.Fatal("Leg of a nil Metrics is not nil")
	}
	l.PacketIn()
	l.PacketOut()
	l.SendInterval(20 * time.Millisecond)
	l.DTMFReply(time.Millisecond)
	l.StreamEnded(ReceiverStats{Lost: 3, AudioPackets: 5})
}

func TestMetricsCount(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := New(reg)
	m.CallStarted("sip", "inbound")
	m.CallStarted("sip", "inbound")
	m.CallStarted("webrtc", "inbound")
	m.CallEnded("sip", "inbound", "caller_hung_up")
	m.SIPResponse("INVITE", 200)
	m.SIPResponse("INVITE", 200)
	m.SIPResponse("INVITE", 488)
	m.Digit("info")
	m.Transfer("sip", "refer", TransferFailed, 3*time.Second)
	m.Transfer("sip", "refer", TransferCallerGone, -1)
	sip := m.Leg("sip")
	for range 5 {
		sip.PacketIn()
	}
	sip.PacketOut()
	sip.SendInterval(20 * time.Millisecond)
	sip.SendInterval(21 * time.Millisecond)
	sip.DTMFReply(40 * time.Millisecond)
	sip.StreamEnded(ReceiverStats{Lost: 2, AudioPackets: 10, Jitter: 3 * time.Millisecond})
	sip.StreamEnded(ReceiverStats{AudioPackets: 1}) // no jitter from a single packet

	for _, tc := range []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"active sip", m.callsActive.WithLabelValues("inbound", "sip"), 1},
		{"active webrtc", m.callsActive.WithLabelValues("inbound", "webrtc"), 1},
		{"ended", m.callsTotal.WithLabelValues("inbound", "sip", "caller_hung_up"), 1},
		{"200", m.sipResponses.WithLabelValues("INVITE", "200"), 2},
		{"488", m.sipResponses.WithLabelValues("INVITE", "488"), 1},
		{"digits", m.dtmfDigits.WithLabelValues("info"), 1},
		{"rtp in", m.rtpPackets.WithLabelValues("sip", DirIn), 5},
		{"rtp out", m.rtpPackets.WithLabelValues("sip", DirOut), 1},
		{"lost", m.rtpLost.WithLabelValues("sip"), 2},
		{"transfers failed", m.transfers.WithLabelValues("sip", "refer", TransferFailed), 1},
		{"transfers gone", m.transfers.WithLabelValues("sip", "refer", TransferCallerGone), 1},
	} {
		if got := testutil.ToFloat64(tc.c); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
	for name, n := range map[string]uint64{
		"hotline_rtp_send_interval_seconds":  2,
		"hotline_rtp_jitter_seconds":         1,
		"hotline_dtmf_reply_latency_seconds": 1,
		"hotline_transfer_wait_seconds":      1,
	} {
		if got := histCount(t, reg, name); got != n {
			t.Errorf("%s count = %d, want %d", name, got, n)
		}
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

// histCount returns the sample count of histogram name, all series.
func histCount(t *testing.T, g prometheus.Gatherer, name string) uint64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}

func TestRegisterTwicePanics(t *testing.T) {
	reg := prometheus.NewRegistry()
	New(reg)
	defer func() {
		if recover() == nil {
			t.Error("second New on one registry did not panic")
		}
	}()
	New(reg)
}

func TestCollectAndCount(t *testing.T) {
	m := New(nil)
	m.CallStarted("sip", "outbound")
	m.CallStarted("webrtc", "inbound")
	if n := testutil.CollectAndCount(m.callsActive, "hotline_calls_active"); n != 2 {
		t.Errorf("calls_active series = %d, want 2", n)
	}
}
