// Package httpapi is hotline's HTTP surface on echo v4: health and
// readiness now; the /api/v1 JSON API, the callback form and the consoles
// are added by the issues that build them.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Check is one readiness dependency (Redis reachable, SIP listening …).
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// LoadProbe reports the live calls of the instance and its configured
// limit (0: unlimited), for /healthz.
type LoadProbe func() (active, limit int)

// Server serves hotline's HTTP endpoints.
type Server struct {
	e        *echo.Echo
	log      *slog.Logger
	checks   []Check
	draining atomic.Bool
	load     atomic.Pointer[LoadProbe]
}

// New builds the server. Checks run on every GET /readyz.
func New(log *slog.Logger, checks ...Check) *Server {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Use(middleware.Recover())
	s := &Server{e: e, log: log, checks: checks}
	e.HTTPErrorHandler = s.handleError
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	return s
}

// handleError writes every error as {"error": "..."}; causes behind a 5xx
// are logged, never sent.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := http.StatusInternalServerError, "internal error"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(code)
		}
	}
	if code >= 500 {
		s.log.Error("http request failed", "method", c.Request().Method, "path", c.Path(), "status", code, "err", err)
	}
	if err := c.JSON(code, map[string]string{"error": msg}); err != nil {
		s.log.Debug("http error response", "err", err)
	}
}

// Echo exposes the router so other packages can add their routes.
func (s *Server) Echo() *echo.Echo { return s.e }

// Drain makes /readyz answer 503 so load balancers stop sending work.
func (s *Server) Drain() { s.draining.Store(true) }

// SetLoad makes /healthz answer 429 Too Many Requests while the probe
// reports the instance at or above its call limit, so a load balancer
// that health-checks over HTTP sends new calls elsewhere (the process is
// healthy, just full).
func (s *Server) SetLoad(p LoadProbe) { s.load.Store(&p) }

func (s *Server) healthz(c echo.Context) error {
	if p := s.load.Load(); p != nil && *p != nil {
		if active, limit := (*p)(); limit > 0 && active >= limit {
			return c.JSON(http.StatusTooManyRequests, map[string]any{
				"status": "full", "active_calls": active, "max_calls": limit,
			})
		}
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	r := readiness{Status: "ok", Checks: map[string]string{}}
	code := http.StatusOK
	for _, ch := range s.checks {
		if err := ch.Fn(ctx); err != nil {
			r.Checks[ch.Name] = err.Error()
			r.Status, code = "unavailable", http.StatusServiceUnavailable
			continue
		}
		r.Checks[ch.Name] = "ok"
	}
	if s.draining.Load() {
		r.Status, code = "draining", http.StatusServiceUnavailable
	}
	return c.JSON(code, r)
}

// Serve listens on addr and serves until ctx ends, then shuts down
// gracefully within grace. ready, if not nil, receives the bound address
// (useful with port 0).
func (s *Server) Serve(ctx context.Context, addr string, grace time.Duration, ready func(net.Addr)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("http: listen %s: %w", addr, err)
	}
	if ready != nil {
		ready(ln.Addr())
	}
	srv := &http.Server{
		Handler:           s.e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // gosec G112
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("http: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http: serve: %w", err)
	}
	return nil
}
