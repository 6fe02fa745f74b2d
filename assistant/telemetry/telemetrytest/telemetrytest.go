// Package telemetrytest reads single series out of a Prometheus
// registry in tests.
package telemetrytest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Value returns the value of the series name{labels} gathered from g
// (labels as name, value pairs; a series must carry exactly these
// labels): a counter's or gauge's value, a histogram's sample count.
// ok is false when the series is absent.
func Value(t testing.TB, g prometheus.Gatherer, name string, labels ...string) (v float64, ok bool) {
	t.Helper()
	if len(labels)%2 != 0 {
		t.Fatalf("telemetrytest: odd label list %q", labels)
	}
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			if !match(have, labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount()), true
			case m.Untyped != nil:
				return m.Untyped.GetValue(), true
			}
		}
	}
	return 0, false
}

// Must is Value for a series that must be present.
func Must(t testing.TB, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	v, ok := Value(t, g, name, labels...)
	if !ok {
		t.Fatalf("no series %s%q", name, labels)
	}
	return v
}

func match(have map[string]string, want []string) bool {
	if len(have) != len(want)/2 {
		return false
	}
	for i := 0; i < len(want); i += 2 {
		if v, ok := have[want[i]]; !ok || v != want[i+1] {
			return false
		}
	}
	return true
}
