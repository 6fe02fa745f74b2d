package main

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"hotline/assistant/callbacks"
	"hotline/assistant/consultants"
	"hotline/configs"
)

// descRecorder is a Registerer that notes the name of every metric its
// collectors describe, then registers them on reg.
type descRecorder struct {
	reg   *prometheus.Registry
	names map[string]bool
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (d *descRecorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	for desc := range ch {
		if m := fqName.FindStringSubmatch(desc.String()); m != nil {
			d.names[m[1]] = true
		}
	}
	return d.reg.Register(c)
}

func (d *descRecorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := d.Register(c); err != nil {
			panic(err)
		}
	}
}

func (d *descRecorder) Unregister(c prometheus.Collector) bool { return d.reg.Unregister(c) }

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	Panels []struct {
		ID      int                      `json:"id"`
		Type    string                   `json:"type"`
		Title   string                   `json:"title"`
		GridPos struct{ H, W, X, Y int } `json:"gridPos"`
		Targets []struct {
			Expr  string `json:"expr"`
			RefID string `json:"refId"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

// metricRef finds the metric names in a PromQL expression (ours, the Go
// runtime's and the process collector's).
var metricRef = regexp.MustCompile(`\b(?:hotline|go|process)_[a-zA-Z0-9_]+`)

// TestDashboardMetricsAreRegistered: docs/grafana-dashboard.json parses,
// its panels have unique ids and do not overlap, every metric its
// queries name is one /metrics serves (a histogram by its _bucket,
// _count or _sum series), and every hotline_ metric /metrics serves has
// a panel.
func TestDashboardMetricsAreRegistered(t *testing.T) {
	raw, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	rec := &descRecorder{reg: prometheus.NewPedanticRegistry(), names: map[string]bool{}}
	registerMetrics(rec)
	if !rec.names["hotline_outbound_due"] || !rec.names["go_goroutines"] {
		t.Fatalf("the recorder saw %d names, not ours: %v", len(rec.names), rec.names)
	}

	registered := func(name string) bool {
		if rec.names[name] {
			return true
		}
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && rec.names[base] {
				return true
			}
		}
		return false
	}
	used := map[string]bool{}
	ids := map[int]string{}
	type rect struct{ x, y, w, h int }
	var rects []rect
	exprs := 0
	for _, p := range d.Panels {
		if other, dup := ids[p.ID]; dup {
			t.Errorf("panel id %d used by %q and %q", p.ID, other, p.Title)
		}
		ids[p.ID] = p.Title
		g := rect{p.GridPos.X, p.GridPos.Y, p.GridPos.W, p.GridPos.H}
		if g.w <= 0 || g.h <= 0 || g.x+g.w > 24 {
			t.Errorf("panel %q has grid position %+v", p.Title, p.GridPos)
		}
		for _, o := range rects {
			if g.x < o.x+o.w && o.x < g.x+g.w && g.y < o.y+o.h && o.y < g.y+g.h {
				t.Errorf("panel %q overlaps another at %+v", p.Title, o)
			}
		}
		rects = append(rects, g)
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs++
			names := metricRef.FindAllString(tg.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q query %s names no metric: %s", p.Title, tg.RefID, tg.Expr)
			}
			for _, n := range names {
				used[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_count"), "_sum")] = true
				if !registered(n) {
					t.Errorf("panel %q queries %s, which /metrics does not serve", p.Title, n)
				}
			}
		}
	}
	for _, v := range d.Templating.List {
		for _, n := range metricRef.FindAllString(v.Definition, -1) {
			if !registered(n) {
				t.Errorf("template variable queries %s, which /metrics does not serve", n)
			}
		}
	}
	if exprs < 20 {
		t.Fatalf("only %d queries in the dashboard", exprs)
	}
	var missing []string
	for n := range rec.names {
		if strings.HasPrefix(n, "hotline_") && !used[n] {
			missing = append(missing, n)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("metrics without a dashboard panel: %v", missing)
	}
}

// TestMetricsWiredToServices builds the app in-process (embedded store,
// outbound dialling off) and scrapes its /metrics: the queue length and
// consultants by presence are read from the consultants' service, the
// callbacks due from the store by the service clock.
func TestMetricsWiredToServices(t *testing.T) {
	cfg, err := configs.Load("", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Outbound.Enabled {
		t.Fatal("the default config dials out: this test wants it off")
	}
	ctx := t.Context()
	a, err := newApp(ctx, cfg, slog.New(slog.DiscardHandler), seed{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	loc := cfg.Location()
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, loc) // a Tuesday
	a.now = func() time.Time { return now }
	if _, err := a.startOutbound(ctx, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	a.metrics.mount(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")

	m := scrape(t, addr)
	for series, want := range map[string]float64{
		`hotline_outbound_due{kind="callback"}`:     0,
		`hotline_outbound_due{kind="attempt"}`:      0,
		`hotline_consultant_queue_length`:           0,
		`hotline_consultants{state="available"}`:    0,
		`hotline_outbound_calls_in_flight`:          0,
		`hotline_redis_errors_total{command="get"}`: -1, // absent: no errors
	} {
		v, ok := m[series]
		if want < 0 {
			if ok {
				t.Errorf("%s = %v on a healthy store", series, v)
			}
			continue
		}
		if !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", series, v, ok, want)
		}
	}

	if a.queue == nil {
		t.Fatal("no consultants' service")
	}
	if _, err := a.queue.SetPresence(ctx, "ala", "Ala", consultants.Available); err != nil {
		t.Fatal(err)
	}
	if _, err := a.cbs.Schedule(ctx, callbacks.Request{Phone: "+48600100200", At: now.Add(5 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	m = scrape(t, addr)
	if v := m[`hotline_consultants{state="available"}`]; v != 1 {
		t.Errorf("available consultants = %v after one became available", v)
	}
	if v := m[`hotline_outbound_due{kind="callback"}`]; v != 0 {
		t.Errorf("a callback at 14:00 counts as due at 09:00: %v", v)
	}
	now = now.Add(6 * time.Hour)
	if v := scrape(t, addr)[`hotline_outbound_due{kind="callback"}`]; v != 1 {
		t.Errorf("callbacks due at 15:00 = %v, want 1", v)
	}
}

// TestOutboundAttemptOnMetrics: `hotline serve` with the dialer on is
// asked to dial a case whose trunk never answers; /metrics then counts
// the one-off attempt under its outcome, the dialer has no call in
// flight any more and the due work reads 0.
func TestOutboundAttemptOnMetrics(t *testing.T) {
	t.Parallel()
	s := startServe(t, outboundEnv(freeUDPPort(t), openWindow)...)
	dialNow(t, s.http, "12345678")

	attempts := func(m map[string]float64) (n float64, outcome string) {
		for series, v := range m {
			if strings.HasPrefix(series, `hotline_outbound_attempts_total{kind="manual",`) {
				n += v
				outcome = series
			}
		}
		return n, outcome
	}
	var m map[string]float64
	deadline := time.Now().Add(60 * time.Second) // the 10 s ring timeout, on a busy host
	for {
		m = scrape(t, s.http)
		if n, _ := attempts(m); n >= 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // polling a real server's dialer
	}
	n, series := attempts(m)
	if n != 1 {
		t.Fatalf("manual attempts on /metrics = %v, want 1", n)
	}
	if !strings.Contains(series, `outcome="no-answer"`) && !strings.Contains(series, `outcome="failed"`) {
		t.Errorf("an unanswered dial counted as %s", series)
	}
	if v, ok := m[`hotline_outbound_calls_in_flight`]; !ok || v != 0 {
		t.Errorf("calls in flight after the attempt = %v (present %v)", v, ok)
	}
	if v, ok := m[`hotline_outbound_due{kind="attempt"}`]; !ok || v != 0 {
		t.Errorf("attempts due = %v (present %v): the retry is due later", v, ok)
	}
}
