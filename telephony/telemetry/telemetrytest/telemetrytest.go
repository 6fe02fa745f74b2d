// Package telemetrytest reads metrics back from a Prometheus registry in
// tests: the gateways' tests (telephony/sipgw, telephony/webrtcgw) give
// telemetry.New a fresh registry and check what a call moved.
package telemetrytest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Series finds the series of name with exactly the given label pairs
// (name, value, name, value…); nil if there is none.
func Series(t testing.TB, g prometheus.Gatherer, name string, labels ...string) *dto.Metric {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(want) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if want[lp.GetName()] != lp.GetValue() {
					continue next
				}
			}
			return m
		}
	}
	return nil
}

// Counter is the value of a counter series; a missing series is an
// error (and 0).
func Counter(t testing.TB, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	m := Series(t, g, name, labels...)
	if m == nil {
		t.Errorf("no series %s%v", name, labels)
		return 0
	}
	return m.GetCounter().GetValue()
}

// Histogram is a histogram series; a missing series is fatal.
func Histogram(t testing.TB, g prometheus.Gatherer, name string, labels ...string) *dto.Histogram {
	t.Helper()
	m := Series(t, g, name, labels...)
	if m == nil {
		t.Fatalf("no series %s%v", name, labels)
	}
	return m.GetHistogram()
}
