package console

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"

	"hotline/assistant/consultants"
)

// client is one console socket.
type client struct {
	user User
	send chan []byte
}

// boardEvery throttles the board pushed to supervisors and the queue
// length pushed to everyone.
const boardEvery = 500 * time.Millisecond

// Run routes the queue's events to this instance's sockets until ctx
// ends: offers and their screen-pops only to the consultant they are
// for, call state changes to the consultant concerned, the queue length
// to everyone, and the live board to supervisors.
func (c *Console) Run(ctx context.Context) error {
	events, stop := c.q.Subscribe()
	defer stop()
	tick := time.NewTicker(boardEvery)
	defer tick.Stop()
	dirty := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-events:
			c.route(ev)
			dirty = true
		case <-tick.C:
			if !dirty || c.clientCount() == 0 {
				continue
			}
			dirty = false
			b, err := c.q.Board(ctx)
			if err != nil {
				c.log.Warn("console: board unavailable", "err", err)
				continue
			}
			c.broadcastBoard(b)
		}
	}
}

func (c *Console) clientCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.clients)
}

// wsMsg is a server → browser message.
type wsMsg struct {
	Type     string                `json:"type"`
	CallID   string                `json:"call_id,omitempty"`
	Popup    *consultants.Popup    `json:"popup,omitempty"`
	Outcome  string                `json:"outcome,omitempty"`
	Presence *consultants.Presence `json:"presence,omitempty"`
	Queue    *int                  `json:"queue,omitempty"`
	Board    *consultants.Board    `json:"board,omitempty"`
}

func encode(m wsMsg) []byte {
	b, _ := json.Marshal(m)
	return b
}

// route delivers one event to the sockets it concerns.
func (c *Console) route(ev consultants.Event) {
	var msg []byte
	switch ev.Type {
	case consultants.EventOffer, consultants.EventOfferCancelled, consultants.EventConnected,
		consultants.EventBack, consultants.EventHangup:
		msg = encode(wsMsg{Type: ev.Type, CallID: ev.CallID, Popup: ev.Popup, Outcome: ev.Outcome})
	case consultants.EventPresence:
		msg = encode(wsMsg{Type: ev.Type, Presence: &consultants.Presence{User: ev.User, State: ev.State}})
	case consultants.EventEnded:
		// No consultant on the event: the browser matches the call id
		// against the call it shows (ids carry no personal data).
		c.each(func(cl *client) { cl.push(encode(wsMsg{Type: ev.Type, CallID: ev.CallID, Outcome: ev.Outcome})) })
		return
	default:
		return
	}
	c.each(func(cl *client) {
		if cl.user.Name == ev.User {
			cl.push(msg)
		}
	})
}

func (c *Console) broadcastBoard(b consultants.Board) {
	n := b.Queue
	queue := encode(wsMsg{Type: "queue", Queue: &n})
	board := encode(wsMsg{Type: "board", Board: &b})
	c.each(func(cl *client) {
		cl.push(queue)
		if cl.user.Role == RoleSupervisor {
			cl.push(board)
		}
	})
}

func (c *Console) each(fn func(*client)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for cl := range c.clients {
		fn(cl)
	}
}

// push queues a message; a socket that cannot keep up loses it (the
// browser reloads its state from /api/me on reconnect).
func (cl *client) push(b []byte) {
	select {
	case cl.send <- b:
	default:
	}
}

// socket is GET /console/ws: the session cookie authenticates; the CSRF
// token (a query parameter: browsers cannot set headers on a WebSocket)
// and the Origin check (websocket.Accept refuses other origins) stop
// another site from opening a socket with the consultant's cookie.
func (c *Console) socket(e echo.Context) error {
	s := sess(e)
	if !csrfOK(s, e.QueryParam("csrf")) {
		return echo.NewHTTPError(http.StatusForbidden, "invalid CSRF token")
	}
	conn, err := websocket.Accept(e.Response(), e.Request(), nil)
	if err != nil {
		return nil // Accept has answered (403 for a foreign origin)
	}
	defer conn.CloseNow()
	ctx, cancel := context.WithCancel(e.Request().Context())
	defer cancel()
	cl := &client{user: s.user, send: make(chan []byte, 64)}
	c.mu.Lock()
	c.clients[cl] = struct{}{}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.clients, cl)
		c.mu.Unlock()
	}()
	// Reads only detect the close (and keep control frames flowing).
	go func() {
		defer cancel()
		for {
			if _, _, err := conn.Read(ctx); err != nil {
				return
			}
		}
	}()
	hb := time.NewTicker(max(c.q.PresenceTTL()/3, time.Second))
	defer hb.Stop()
	if err := c.q.Heartbeat(ctx, s.user.Name); err != nil {
		c.log.Warn("console: heartbeat", "err", err)
	}
	if b, err := c.q.Board(ctx); err == nil {
		n := b.Queue
		cl.push(encode(wsMsg{Type: "queue", Queue: &n}))
		if s.user.Role == RoleSupervisor {
			cl.push(encode(wsMsg{Type: "board", Board: &b}))
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hb.C:
			// The socket being open is the consultant's heartbeat.
			if err := c.q.Heartbeat(ctx, s.user.Name); err != nil {
				c.log.Warn("console: heartbeat", "err", err)
			}
		case b := <-cl.send:
			wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Write(wctx, websocket.MessageText, b)
			wcancel()
			if err != nil {
				return nil
			}
		}
	}
}
