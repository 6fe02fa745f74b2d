package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
)

// TestHealthzAnswers429WhenFull: /healthz is 200 below the call limit and
// without one, 429 at or above it, and 200 again when calls end.
func TestHealthzAnswers429WhenFull(t *testing.T) {
	var active, limit atomic.Int64
	s := New(slog.New(slog.DiscardHandler))
	s.SetLoad(func() (int, int) { return int(active.Load()), int(limit.Load()) })
	addr := startServer(t, s)
	tests := []struct {
		active, limit int64
		want          int
	}{
		{0, 0, http.StatusOK},
		{50, 0, http.StatusOK}, // no limit configured
		{1, 2, http.StatusOK},
		{2, 2, http.StatusTooManyRequests},
		{3, 2, http.StatusTooManyRequests},
		{1, 2, http.StatusOK}, // a call ended
	}
	for _, tt := range tests {
		active.Store(tt.active)
		limit.Store(tt.limit)
		resp, err := http.Get(addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tt.want {
			t.Errorf("active %d limit %d: /healthz = %d %v, want %d", tt.active, tt.limit, resp.StatusCode, body, tt.want)
		}
		if tt.want == http.StatusTooManyRequests && (body["status"] != "full" || body["max_calls"] != float64(tt.limit)) {
			t.Errorf("429 body = %v", body)
		}
	}
}
