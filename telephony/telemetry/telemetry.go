// Package telemetry holds the telephony metrics (Prometheus): calls by
// direction, leg type and termination cause, SIP responses, RTP packets,
// loss, jitter and send pacing, DTMF digits and the DTMF → reply latency,
// transfers. The gateways (telephony/sipgw, telephony/webrtcgw) report
// into one *Metrics; a nil *Metrics, and a nil *Leg, accept every call
// and record nothing, so gateways and their tests run without metrics.
//
// Per-packet paths use a *Leg (Metrics.Leg), whose label values are
// resolved once: a counter increment is then an atomic add.
package telemetry

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Namespace prefixes every metric name.
const Namespace = "hotline"

// Label values for the rtp_packets_total "dir" label.
const (
	DirIn  = "in"
	DirOut = "out"
)

// Histogram buckets.
var (
	// sendIntervalBuckets are fine around the 20 ms packet time: a
	// healthy sender sits in 19.5–20.5 ms; 25 ms is the p99 target.
	sendIntervalBuckets = []float64{
		0.001, 0.005, 0.010, 0.015, 0.018, 0.019, 0.0195, 0.0199, 0.0201, 0.0205,
		0.021, 0.022, 0.025, 0.030, 0.040, 0.060, 0.100, 0.200,
	}
	// jitterBuckets cover RFC 3550 interarrival jitter from LAN (< 1 ms)
	// to a bad mobile network (> 100 ms).
	jitterBuckets = []float64{0.0005, 0.001, 0.002, 0.005, 0.010, 0.020, 0.030, 0.050, 0.100, 0.200}
	// replyBuckets cover DTMF → reply: the target is p95 ≤ 100 ms.
	replyBuckets = []float64{0.005, 0.010, 0.020, 0.030, 0.050, 0.075, 0.100, 0.150, 0.200, 0.300, 0.500, 1, 2, 5}
	// waitBuckets cover a consultant's ring (transfer queue wait).
	waitBuckets = []float64{0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 120}
)

// Metrics is the telephony metric set. Create it with New; its methods
// are safe for concurrent use and do nothing on a nil receiver.
type Metrics struct {
	callsActive  *prometheus.GaugeVec     // direction, leg
	callsTotal   *prometheus.CounterVec   // direction, leg, cause
	sipResponses *prometheus.CounterVec   // method, code
	rtpPackets   *prometheus.CounterVec   // leg, dir
	rtpLost      *prometheus.CounterVec   // leg
	rtpJitter    *prometheus.HistogramVec // leg
	sendInterval *prometheus.HistogramVec // leg
	dtmfDigits   *prometheus.CounterVec   // source
	dtmfReply    *prometheus.HistogramVec // leg
	transfers    *prometheus.CounterVec   // leg, mode, outcome
	transferWait *prometheus.HistogramVec // leg, mode
}

// New creates the metrics and registers them with reg (nil: not
// registered, e.g. in tests that read them with testutil). It panics if
// they are registered twice, like prometheus.MustRegister.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		callsActive: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "calls_active",
			Help: "Calls in progress (from INVITE or offer to the end of teardown).",
		}, []string{"direction", "leg"}),
		callsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "calls_total",
			Help: "Calls ended, by termination cause.",
		}, []string{"direction", "leg", "cause"}),
		sipResponses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "sip_responses_total",
			Help: "Final SIP responses sent to requests outside a dialog and to INVITEs, by method and status code.",
		}, []string{"method", "code"}),
		rtpPackets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "rtp_packets_total",
			Help: "RTP packets received (in) and sent (out).",
		}, []string{"leg", "dir"}),
		rtpLost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "rtp_lost_packets_total",
			Help: "RTP packets lost on the way to us (RFC 3550 A.3: expected − received), counted at the end of each call.",
		}, []string{"leg"}),
		rtpJitter: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "rtp_jitter_seconds",
			Help:    "RFC 3550 §6.4.1 interarrival jitter of received audio, one sample per call at its end.",
			Buckets: jitterBuckets,
		}, []string{"leg"}),
		sendInterval: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "rtp_send_interval_seconds",
			Help:    "Time between consecutive outgoing RTP packets of a talk spurt (monotonic clock; nominal 20 ms).",
			Buckets: sendIntervalBuckets,
		}, []string{"leg"}),
		dtmfDigits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "dtmf_digits_total",
			Help: "Key presses delivered to the handler (after deduplication), by the route that delivered them.",
		}, []string{"source"}),
		dtmfReply: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "dtmf_reply_latency_seconds",
			Help:    "From a key press's delivery to the first RTP packet of the bot's next talk spurt on that leg.",
			Buckets: replyBuckets,
		}, []string{"leg"}),
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "transfers_total",
			Help: "Transfers to a consultant by mode (refer, bridge) and outcome (ok, failed, caller_gone).",
		}, []string{"leg", "mode", "outcome"}),
		transferWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "transfer_wait_seconds",
			Help:    "How long callers waited (ringback) for a consultant to take a transfer, successful or not.",
			Buckets: waitBuckets,
		}, []string{"leg", "mode"}),
	}
	if reg != nil {
		for _, c := range m.collectors() {
			reg.MustRegister(c)
		}
	}
	return m
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		m.callsActive, m.callsTotal, m.sipResponses, m.rtpPackets, m.rtpLost, m.rtpJitter,
		m.sendInterval, m.dtmfDigits, m.dtmfReply, m.transfers, m.transferWait,
	}
}

// CallStarted counts a call in progress; leg is "sip" or "webrtc",
// direction "inbound" or "outbound". Pair it with CallEnded.
func (m *Metrics) CallStarted(leg, direction string) {
	if m == nil {
		return
	}
	m.callsActive.WithLabelValues(direction, leg).Inc()
}

// CallEnded ends a call counted by CallStarted, with its termination
// cause (telephony.Cause).
func (m *Metrics) CallEnded(leg, direction, cause string) {
	if m == nil {
		return
	}
	m.callsActive.WithLabelValues(direction, leg).Dec()
	m.callsTotal.WithLabelValues(direction, leg, cause).Inc()
}

// SIPResponse counts a SIP response we sent.
func (m *Metrics) SIPResponse(method string, code int) {
	if m == nil {
		return
	}
	m.sipResponses.WithLabelValues(method, strconv.Itoa(code)).Inc()
}

// Digit counts a key press delivered to the handler; source is
// "rfc4733", "info", "inband" or "datachannel".
func (m *Metrics) Digit(source string) {
	if m == nil {
		return
	}
	m.dtmfDigits.WithLabelValues(source).Inc()
}

// Transfer outcomes.
const (
	TransferOK         = "ok"          // the consultant took the call
	TransferFailed     = "failed"      // busy, no answer, refused: back with the bot
	TransferCallerGone = "caller_gone" // the caller hung up meanwhile
)

// Transfer counts a transfer attempt and how long the caller waited for
// the consultant (wait < 0: not measured).
func (m *Metrics) Transfer(leg, mode, outcome string, wait time.Duration) {
	if m == nil {
		return
	}
	m.transfers.WithLabelValues(leg, mode, outcome).Inc()
	if wait >= 0 {
		m.transferWait.WithLabelValues(leg, mode).Observe(wait.Seconds())
	}
}

// Leg returns the per-packet metrics of one leg type with their labels
// resolved; a gateway keeps it for its lifetime. Nil on a nil Metrics.
func (m *Metrics) Leg(leg string) *Leg {
	if m == nil {
		return nil
	}
	return &Leg{
		packetsIn:    m.rtpPackets.WithLabelValues(leg, DirIn),
		packetsOut:   m.rtpPackets.WithLabelValues(leg, DirOut),
		lost:         m.rtpLost.WithLabelValues(leg),
		jitter:       m.rtpJitter.WithLabelValues(leg),
		sendInterval: m.sendInterval.WithLabelValues(leg),
		dtmfReply:    m.dtmfReply.WithLabelValues(leg),
	}
}

// Leg is the media metrics of one leg type (Metrics.Leg). Its methods
// are safe for concurrent use and do nothing on a nil receiver.
type Leg struct {
	packetsIn, packetsOut, lost prometheus.Counter
	jitter, sendInterval        prometheus.Observer
	dtmfReply                   prometheus.Observer
}

// PacketIn counts one received RTP packet.
func (l *Leg) PacketIn() {
	if l != nil {
		l.packetsIn.Inc()
	}
}

// PacketOut counts one sent RTP packet.
func (l *Leg) PacketOut() {
	if l != nil {
		l.packetsOut.Inc()
	}
}

// SendInterval records the time between two consecutive packets of a
// talk spurt, measured on the monotonic clock.
func (l *Leg) SendInterval(d time.Duration) {
	if l != nil {
		l.sendInterval.Observe(d.Seconds())
	}
}

// DTMFReply records the time from a key press to the first packet of
// the reply.
func (l *Leg) DTMFReply(d time.Duration) {
	if l != nil {
		l.dtmfReply.Observe(d.Seconds())
	}
}

// StreamEnded reports a finished call's receive statistics: packets lost
// and the final interarrival jitter (see Receiver). A stream that never
// carried audio reports no jitter.
func (l *Leg) StreamEnded(st ReceiverStats) {
	if l == nil {
		return
	}
	if st.Lost > 0 {
		l.lost.Add(float64(st.Lost))
	}
	if st.AudioPackets > 1 {
		l.jitter.Observe(st.Jitter.Seconds())
	}
}
