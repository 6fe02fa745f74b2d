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
// and the assistant's (engine latency, verifications, Redis errors), on
// a registry of our own rather than the global default.
type metrics struct {
	reg       *prometheus.Registry
	telephony *telemetry.Metrics
	assistant *asttelemetry.Metrics
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		// The scheduler's latency histogram (go_sched_latencies_seconds)
		// tells whether late RTP ticks are the host's CPU or our own.
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.MetricsGC, collectors.MetricsScheduler)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return &metrics{reg: reg, telephony: telemetry.New(reg), assistant: asttelemetry.New(reg)}
}

// mount serves the registry as GET /metrics (Prometheus text or
// OpenMetrics by content negotiation). It is not behind the API tokens:
// like /healthz it is for the operator's network, not the public one.
func (m *metrics) mount(e *echo.Echo) {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
	e.GET("/metrics", echo.WrapHandler(h))
}
