package main

import (
	"bufio"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// scrapeLatency reads the server's histograms at the end of a step: the
// RTP send-interval p99 (target ≤ 25 ms) and the DTMF → first reply
// packet p95 (target ≤ 100 ms).
func scrapeLatency(url string, r *result) error {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	h, err := parseHistograms(bufio.NewScanner(resp.Body))
	if err != nil {
		return err
	}
	r.sendP99 = h["hotline_rtp_send_interval_seconds"].quantileText(0.99)
	reply := h["hotline_dtmf_reply_latency_seconds"]
	r.replyP95 = reply.quantileText(0.95)
	r.replies = int(reply.count)
	return nil
}

// histogram is one histogram summed over its label sets: cumulative
// counts by upper bound.
type histogram struct {
	buckets map[float64]float64
	count   float64
}

// parseHistograms reads the _bucket and _count series of every histogram
// in a Prometheus text exposition.
func parseHistograms(sc *bufio.Scanner) (map[string]*histogram, error) {
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	out := map[string]*histogram{}
	get := func(name string) *histogram {
		if out[name] == nil {
			out[name] = &histogram{buckets: map[float64]float64{}}
		}
		return out[name]
	}
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		series := line[:sp]
		name, labels, _ := strings.Cut(series, "{")
		switch {
		case strings.HasSuffix(name, "_bucket"):
			le := labelValue(labels, "le")
			bound, err := strconv.ParseFloat(le, 64) // "+Inf" parses as +Inf
			if err != nil {
				return nil, fmt.Errorf("metrics line %q: le: %w", line, err)
			}
			get(strings.TrimSuffix(name, "_bucket")).buckets[bound] += v
		case strings.HasSuffix(name, "_count"):
			get(strings.TrimSuffix(name, "_count")).count += v
		}
	}
	return out, sc.Err()
}

func labelValue(labels, name string) string {
	for _, kv := range strings.Split(strings.TrimSuffix(labels, "}"), ",") {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k == name {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// quantile estimates the q-quantile the way PromQL's histogram_quantile
// does: linear interpolation inside the bucket that holds it. It returns
// the upper finite bound and ok=false when the quantile is in +Inf.
func (h *histogram) quantile(q float64) (float64, bool) {
	bounds := make([]float64, 0, len(h.buckets))
	for b := range h.buckets {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	total := h.buckets[math.Inf(1)]
	rank := q * total
	lower, below := 0.0, 0.0
	for _, b := range bounds {
		n := h.buckets[b]
		if n >= rank {
			if math.IsInf(b, 1) {
				return lower, false
			}
			if n == below {
				return b, true
			}
			return lower + (b-lower)*(rank-below)/(n-below), true
		}
		lower, below = b, n
	}
	return lower, false
}

// quantileText formats a quantile in ms for the table ("–" when empty).
func (h *histogram) quantileText(q float64) string {
	if h == nil || h.count == 0 {
		return "–"
	}
	v, ok := h.quantile(q)
	if !ok {
		return fmt.Sprintf("> %.0f ms", v*1000)
	}
	return fmt.Sprintf("%.1f ms", v*1000)
}
