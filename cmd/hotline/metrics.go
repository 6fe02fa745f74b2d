package main

import (
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	asttelemetry "hotline/assistant/telemetry"
	"hotline/telephony/telemetry"
)

// metrics is what GET /metrics serves: the Go runtime and process
// collectors, the telephony metrics (calls, SIP, RTP, DTMF, transfers)
// and the assistant's (engine latency, verifications, Redis errors,
// outbound attempts and gate refusals, consultant queue waits, and the
// work due, queue length and consultants by presence read from Redis at
// scrape time), on a registry of our own rather than the global default.
//
// The assistant's metrics are fed where the services are built:
// consultantsFor (console.go) passes them as the queue's Observer and
// has them read the queue per scrape (WatchQueue); startOutbound
// (outbound.go) passes them as the dialer's Observer and has them read
// the due work (WatchDue), also when outbound dialling is off.
type metrics struct {
	reg       *prometheus.Registry
	telephony *telemetry.Metrics
	assistant *asttelemetry.Metrics
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	m := registerMetrics(reg)
	m.reg = reg
	return m
}

// registerMetrics creates every metric the service exposes and registers
// it with r (the dashboard test records what is registered through it).
func registerMetrics(r prometheus.Registerer) *metrics {
	r.MustRegister(
		// The scheduler's latency histogram (go_sched_latencies_seconds)
		// tells whether late RTP ticks are the host's CPU or our own.
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.MetricsGC, collectors.MetricsScheduler)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return &metrics{telephony: telemetry.New(r), assistant: asttelemetry.New(r)}
}

// mount serves the registry as GET /metrics (Prometheus text or
// OpenMetrics by content negotiation). It is not behind the API tokens:
// like /healthz it is for the operator's network, not the public one.
func (m *metrics) mount(e *echo.Echo) {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
	e.GET("/metrics", echo.WrapHandler(h))
}
