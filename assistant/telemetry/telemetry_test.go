package telemetry

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"hotline/assistant"
	"hotline/assistant/assistanttest"
	"hotline/assistant/redistest"
	"hotline/dialogs"
)

// TestEngineTurnsAreMeasured drives a real engine (the demo case, on
// miniredis) to a transfer: every turn is timed, every node too, and the
// transfer is counted with its reason.
func TestEngineTurnsAreMeasured(t *testing.T) {
	rdb, _, prefix := redistest.Mini(t)
	reg := prometheus.NewPedanticRegistry()
	m := New(reg)
	r := assistanttest.New(t, rdb, prefix, assistanttest.Options{Observer: m})
	ctx := context.Background()
	const call = "metrics-call"
	if _, err := r.Engine.Start(ctx, assistant.Call{ID: call, Direction: "inbound", Leg: "sip"}); err != nil {
		t.Fatal(err)
	}
	var last assistant.Turn
	for _, k := range []string{"12345678#", "02011980", "1", "0"} {
		turn, err := r.Engine.Handle(ctx, call, dialogs.Input{Kind: dialogs.InputKeys, Keys: k})
		if err != nil {
			t.Fatalf("keys %s: %v", k, err)
		}
		last = turn
	}
	if last.Reply.Action.Kind != dialogs.ActionTransfer {
		t.Fatalf("the demo walk did not end in a transfer: %+v", last.Reply.Action)
	}
	if n := testutil.CollectAndCount(m.turn); n != 1 {
		t.Errorf("turn histogram series = %d", n)
	}
	if got := histCount(t, reg, "hotline_engine_turn_seconds"); got != 5 {
		t.Errorf("%d turns timed, want 5", got)
	}
	if n := testutil.CollectAndCount(m.nodes); n != 3 {
		t.Errorf("node histogram series = %d, want understand, policy, act", n)
	}
	if got := histCount(t, reg, "hotline_engine_node_seconds"); got != 15 {
		t.Errorf("%d node observations, want 3 per turn (15)", got)
	}
	if got := testutil.ToFloat64(m.transfers.WithLabelValues(last.Reply.Action.Reason)); got != 1 {
		t.Errorf("transfers{reason=%q} = %v, want 1", last.Reply.Action.Reason, got)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

func histCount(t *testing.T, g prometheus.Gatherer, name string) uint64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, s := range mf.GetMetric() {
				n += s.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}

type fakeVerifier struct {
	v   dialogs.Verdict
	err error
}

func (f fakeVerifier) Verify(context.Context, string, string, string) (dialogs.Verdict, error) {
	return f.v, f.err
}

func TestVerifierCountsOutcomes(t *testing.T) {
	m := New(nil)
	for _, f := range []fakeVerifier{
		{v: dialogs.VerdictVerified},
		{v: dialogs.VerdictRejected},
		{v: dialogs.VerdictRejected},
		{v: dialogs.VerdictLocked},
		{err: errors.New("redis down")},
	} {
		v, err := m.Verifier(f).Verify(context.Background(), "c", "12345678", "02011980")
		if v != f.v || !errors.Is(err, f.err) {
			t.Errorf("wrapper changed the verdict: %v %v", v, err)
		}
	}
	for outcome, want := range map[string]float64{
		OutcomeVerified: 1, OutcomeRejected: 2, OutcomeLocked: 1, OutcomeError: 1,
	} {
		if got := testutil.ToFloat64(m.verifications.WithLabelValues(outcome)); got != want {
			t.Errorf("verifications{%s} = %v, want %v", outcome, got, want)
		}
	}
}

func TestRedisHookCountsErrors(t *testing.T) {
	rdb, mini, _ := redistest.Mini(t)
	m := New(nil)
	rdb.AddHook(m.RedisHook())
	ctx := context.Background()
	if err := rdb.RPush(ctx, "list", "x").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Get(ctx, "missing").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET missing: %v", err)
	}
	if err := rdb.Get(ctx, "list").Err(); err == nil {
		t.Fatal("GET on a list succeeded")
	}
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "list")
		p.Get(ctx, "missing")
		return nil
	})
	if err == nil {
		t.Fatal("pipeline with a WRONGTYPE succeeded")
	}
	if got := testutil.ToFloat64(m.redisErrors.WithLabelValues("get")); got != 2 {
		t.Errorf("redis_errors{get} = %v, want 2 (WRONGTYPE twice, redis.Nil never)", got)
	}
	mini.Close() // the server goes away: commands fail to connect
	_ = rdb.Set(ctx, "k", "v", 0).Err()
	if got := testutil.ToFloat64(m.redisErrors.WithLabelValues("set")); got != 1 {
		t.Errorf("redis_errors{set} = %v after the server stopped, want 1", got)
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.ObserveNode("turn", 1, nil)
	m.ObserveTurn(assistant.Turn{Reply: dialogs.Reply{Action: dialogs.Action{Kind: dialogs.ActionTransfer}}})
	f := fakeVerifier{v: dialogs.VerdictVerified}
	if m.Verifier(f) != dialogs.Verifier(f) {
		t.Error("a nil Metrics wrapped the verifier")
	}
	rdb, _, _ := redistest.Mini(t)
	rdb.AddHook(m.RedisHook())
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
}
