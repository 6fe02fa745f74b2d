package telemetry

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Attempt kinds (the "kind" label of hotline_outbound_attempts_total):
// a callback someone booked, an attempt of a campaign, or a one-off dial
// (POST /calls/outbound).
const (
	KindCallback = "callback"
	KindCampaign = "campaign"
	KindManual   = "manual"
)

// outcomeRefused is the outcome of an attempt the compliance gate
// refused (outbound.OutcomeRefused).
const outcomeRefused = "refused-by-gate"

// Queue wait results (the "result" label of
// hotline_consultant_queue_wait_seconds).
const (
	WaitAnswered  = "answered"  // a consultant took the caller
	WaitTimeout   = "timeout"   // nobody did within the queue timeout
	WaitAbandoned = "abandoned" // the caller hung up (or the call ended) first
)

// waitBuckets span a consultant who is free at once (a second) to the
// longest queue timeout an operator would configure (10 minutes).
var waitBuckets = []float64{1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600}

// storeTimeout bounds the Redis reads of one scrape: a slow or absent
// Redis must not hang Prometheus (its default scrape timeout is 10 s).
const storeTimeout = 500 * time.Millisecond

// outboundMetrics are the dialer's and the consultant queue's event
// metrics, part of Metrics.
type outboundMetrics struct {
	attempts  *prometheus.CounterVec   // kind, outcome
	refusals  *prometheus.CounterVec   // rule
	inFlight  prometheus.Gauge         // calls this instance's dialer has up
	queueWait *prometheus.HistogramVec // result
}

func newOutboundMetrics() outboundMetrics {
	return outboundMetrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Name: "outbound_attempts_total",
			Help: "Outbound attempts by kind (callback, campaign, manual) and outcome " +
				"(answered-right-party, wrong-party, no-answer, busy, failed, refused-by-gate).",
		}, []string{"kind", "outcome"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Name: "outbound_gate_refusals_total",
			Help: "Outbound attempts the compliance gate refused, by rule.",
		}, []string{"rule"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "hotline", Name: "outbound_calls_in_flight",
			Help: "Outbound calls this instance's dialer has up (ringing or talking).",
		}),
		queueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "hotline", Name: "consultant_queue_wait_seconds",
			Help:    "Time a transferred caller waited in the consultants' queue, by result (answered, timeout, abandoned).",
			Buckets: waitBuckets,
		}, []string{"result"}),
	}
}

func (o outboundMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{o.attempts, o.refusals, o.inFlight, o.queueWait}
}

// ObserveAttempt counts an outbound attempt that was dialled, by kind
// (KindCallback, KindCampaign, KindManual) and outcome
// (outbound.Outcome). It implements outbound.Observer.
func (m *Metrics) ObserveAttempt(kind, outcome string) {
	if m == nil {
		return
	}
	m.out.attempts.WithLabelValues(kind, outcome).Inc()
}

// ObserveRefusal counts an attempt the compliance gate refused, under
// its kind (outcome refused-by-gate) and the rule that refused it. It
// implements outbound.Observer.
func (m *Metrics) ObserveRefusal(kind, rule string) {
	if m == nil {
		return
	}
	m.out.attempts.WithLabelValues(kind, outcomeRefused).Inc()
	m.out.refusals.WithLabelValues(rule).Inc()
}

// ObserveDialling moves the outbound calls in flight by delta (+1 when
// the gate let a call through, -1 when it ended). It implements
// outbound.Observer.
func (m *Metrics) ObserveDialling(delta int) {
	if m == nil {
		return
	}
	m.out.inFlight.Add(float64(delta))
}

// ObserveQueueWait records how long a caller waited for a consultant and
// how the wait ended (WaitAnswered, WaitTimeout, WaitAbandoned). It
// implements consultants.Observer.
func (m *Metrics) ObserveQueueWait(result string, d time.Duration) {
	if m == nil {
		return
	}
	m.out.queueWait.WithLabelValues(result).Observe(d.Seconds())
}

// DueReader counts the work due now in Redis: callbacks and attempts
// whose time has come and that no instance has claimed yet
// (outbound.Scheduler).
type DueReader interface {
	Due(ctx context.Context) (callbacks, attempts int64, err error)
}

// QueueReader reads the consultants' queue: the callers waiting and the
// consultants by presence state (consultants.Service).
type QueueReader interface {
	QueueStats(ctx context.Context) (waiting int64, presence map[string]int64, err error)
}

// storeGauges reads gauges from Redis at scrape time. They describe the
// shared state of every instance on that Redis, so each instance reports
// the same values: aggregate them across instances with max(), not sum().
// A read that fails (or exceeds storeTimeout) leaves its series out of
// that scrape; the Redis hook counts the error.
type storeGauges struct {
	due, waiting, consultants *prometheus.Desc

	mu    sync.Mutex
	dueR  DueReader
	queue QueueReader
}

var _ prometheus.Collector = (*storeGauges)(nil)

func newStoreGauges() *storeGauges {
	return &storeGauges{
		due: prometheus.NewDesc("hotline_outbound_due",
			"Outbound work due now and not yet claimed, by kind (callback; attempt: campaign and one-off dials). Shared by all instances: use max().",
			[]string{"kind"}, nil),
		waiting: prometheus.NewDesc("hotline_consultant_queue_length",
			"Callers waiting in the consultants' queue (not yet offered). Shared by all instances: use max().",
			nil, nil),
		consultants: prometheus.NewDesc("hotline_consultants",
			"Known consultants by presence state (available, busy, away, offline). Shared by all instances: use max().",
			[]string{"state"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (g *storeGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.due
	ch <- g.waiting
	ch <- g.consultants
}

// Collect implements prometheus.Collector: one bounded read per source.
func (g *storeGauges) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	dueR, queue := g.dueR, g.queue
	g.mu.Unlock()
	if dueR == nil && queue == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if dueR != nil {
		if cb, at, err := dueR.Due(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(g.due, prometheus.GaugeValue, float64(cb), "callback")
			ch <- prometheus.MustNewConstMetric(g.due, prometheus.GaugeValue, float64(at), "attempt")
		}
	}
	if queue != nil {
		if n, presence, err := queue.QueueStats(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(g.waiting, prometheus.GaugeValue, float64(n))
			for state, c := range presence {
				ch <- prometheus.MustNewConstMetric(g.consultants, prometheus.GaugeValue, float64(c), state)
			}
		}
	}
}

// WatchDue makes every scrape report hotline_outbound_due read from r
// (replacing an earlier reader).
func (m *Metrics) WatchDue(r DueReader) {
	if m == nil {
		return
	}
	m.store.mu.Lock()
	m.store.dueR = r
	m.store.mu.Unlock()
}

// WatchQueue makes every scrape report hotline_consultant_queue_length
// and hotline_consultants read from r (replacing an earlier reader).
func (m *Metrics) WatchQueue(r QueueReader) {
	if m == nil {
		return
	}
	m.store.mu.Lock()
	m.store.queue = r
	m.store.mu.Unlock()
}
