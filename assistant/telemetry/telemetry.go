// Package telemetry holds the assistant's metrics (Prometheus): the
// conversation engine's turn and node latencies (as its NodeObserver),
// verification outcomes (a dialogs.Verifier wrapper), transfers decided
// by the flow (as its TurnObserver), Redis command errors (a go-redis
// hook), the outbound dialer's attempts (as outbound.Observer), the
// consultants' queue waits (as consultants.Observer) and gauges read
// from Redis at scrape time (work due, queue length, consultants by
// presence: WatchDue, WatchQueue). A nil *Metrics records nothing, so the engine and its tests run
// without metrics. The telephony metrics live in telephony/telemetry.
package telemetry

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"hotline/assistant"
	"hotline/dialogs"
)

// turnNode is the name the engine's graph reports for a whole turn
// (understand → policy → act); the nodes report their own names.
const turnNode = "turn"

// Metrics is the assistant metric set; create it with New.
type Metrics struct {
	turn          prometheus.Histogram
	nodes         *prometheus.HistogramVec // node
	nodeErrors    *prometheus.CounterVec   // node
	verifications *prometheus.CounterVec   // outcome
	transfers     *prometheus.CounterVec   // reason
	redisErrors   *prometheus.CounterVec   // command
	out           outboundMetrics
	store         *storeGauges
}

var (
	_ assistant.NodeObserver = (*Metrics)(nil)
	_ assistant.TurnObserver = (*Metrics)(nil)
)

// latencyBuckets span a keypad turn (well under 10 ms) to an LLM turn
// (seconds).
var latencyBuckets = []float64{0.0005, 0.001, 0.002, 0.005, 0.010, 0.020, 0.050, 0.100, 0.250, 0.5, 1, 2, 5}

// New creates the metrics and registers them with reg (nil: not
// registered). It panics if they are registered twice.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		turn: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "hotline", Name: "engine_turn_seconds",
			Help:    "Duration of the engine's turn graph (understand → policy → act), per turn.",
			Buckets: latencyBuckets,
		}),
		nodes: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "hotline", Name: "engine_node_seconds",
			Help:    "Duration of each node of the engine's turn graph.",
			Buckets: latencyBuckets,
		}, []string{"node"}),
		nodeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Name: "engine_node_errors_total",
			Help: "Turn-graph nodes (and whole turns, node=\"turn\") that failed.",
		}, []string{"node"}),
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Name: "verifications_total",
			Help: "Caller verification attempts by outcome (verified, rejected, locked, error).",
		}, []string{"outcome"}),
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Name: "engine_transfers_total",
			Help: "Transfers to a consultant decided by the conversation, by reason.",
		}, []string{"reason"}),
		redisErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Name: "redis_errors_total",
			Help: "Redis commands and pipelines that failed (redis.Nil, a missing key, is not an error), by command.",
		}, []string{"command"}),
		out:   newOutboundMetrics(),
		store: newStoreGauges(),
	}
	if reg != nil {
		reg.MustRegister(m.turn, m.nodes, m.nodeErrors, m.verifications, m.transfers, m.redisErrors, m.store)
		reg.MustRegister(m.out.collectors()...)
	}
	return m
}

// ObserveNode implements assistant.NodeObserver: the graph's own
// observation ("turn") is the turn latency, the others node latencies.
func (m *Metrics) ObserveNode(node string, d time.Duration, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.nodeErrors.WithLabelValues(node).Inc()
	}
	if node == turnNode {
		m.turn.Observe(d.Seconds())
		return
	}
	m.nodes.WithLabelValues(node).Observe(d.Seconds())
}

// ObserveTurn implements assistant.TurnObserver: it counts transfers.
func (m *Metrics) ObserveTurn(t assistant.Turn) {
	if m == nil || t.Reply.Action.Kind != dialogs.ActionTransfer {
		return
	}
	reason := t.Reply.Action.Reason
	if reason == "" {
		reason = "unspecified"
	}
	m.transfers.WithLabelValues(reason).Inc()
}

// Verification outcomes (the "outcome" label).
const (
	OutcomeVerified = "verified"
	OutcomeRejected = "rejected"
	OutcomeLocked   = "locked"
	OutcomeError    = "error"
)

// Verifier wraps v to count its outcomes; on a nil Metrics it returns v.
func (m *Metrics) Verifier(v dialogs.Verifier) dialogs.Verifier {
	if m == nil {
		return v
	}
	return countingVerifier{v: v, m: m}
}

type countingVerifier struct {
	v dialogs.Verifier
	m *Metrics
}

var _ dialogs.Verifier = countingVerifier{}

// Verify implements dialogs.Verifier.
func (c countingVerifier) Verify(ctx context.Context, callID, caseNumber, birthDate string) (dialogs.Verdict, error) {
	v, err := c.v.Verify(ctx, callID, caseNumber, birthDate)
	outcome := OutcomeRejected
	switch {
	case err != nil:
		outcome = OutcomeError
	case v == dialogs.VerdictVerified:
		outcome = OutcomeVerified
	case v == dialogs.VerdictLocked:
		outcome = OutcomeLocked
	}
	c.m.verifications.WithLabelValues(outcome).Inc()
	return v, err
}

// RedisHook returns a go-redis hook counting failed commands into
// redis_errors_total; add it with client.AddHook. On a nil Metrics the
// hook passes everything through uncounted.
func (m *Metrics) RedisHook() redis.Hook { return redisHook{m: m} }

type redisHook struct{ m *Metrics }

var _ redis.Hook = redisHook{}

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err != nil {
			h.count("dial")
		}
		return conn, err
	}
}

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if failed(err) {
			h.count(cmd.Name())
		}
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			if failed(cmd.Err()) {
				h.count(cmd.Name())
			}
		}
		if failed(err) && len(cmds) == 0 {
			h.count("pipeline")
		}
		return err
	}
}

// count adds one error for command (lower-case, bounded cardinality:
// command names only, never keys or arguments).
func (h redisHook) count(command string) {
	if h.m == nil {
		return
	}
	h.m.redisErrors.WithLabelValues(strings.ToLower(command)).Inc()
}

// failed: a real error. redis.Nil is an answer ("no such key"), and a
// transaction aborted by WATCH is the optimistic lock doing its job.
func failed(err error) bool {
	return err != nil && !errors.Is(err, redis.Nil) && !errors.Is(err, redis.TxFailedErr)
}
