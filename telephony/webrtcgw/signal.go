package webrtcgw

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/labstack/echo/v4"
	"github.com/pion/webrtc/v4"

	"hotline/telephony"
)

const (
	// answerTimeout bounds negotiating an offer (ICE gathering takes
	// milliseconds on host candidates, longer with STUN).
	answerTimeout = 10 * time.Second
	// noteWriteTimeout: a page that does not take a note this fast is
	// gone; its socket is closed (the call goes on).
	noteWriteTimeout = 5 * time.Second
	// retryAfterSeconds tells a refused page when to try again.
	retryAfterSeconds = "5"
)

// OfferRequest is the body of POST /offer. Trickle: the offer's
// candidates follow on the events WebSocket and the answer comes without
// waiting for ours (which follow there too); otherwise the offer must be
// complete and the answer is.
type OfferRequest struct {
	SDP     string `json:"sdp"`
	Trickle bool   `json:"trickle,omitempty"`
}

// OfferResponse answers POST /offer: the call's id (for GET /events/:id)
// and the complete SDP answer.
type OfferResponse struct {
	ID  string `json:"id"`
	SDP string `json:"sdp"`
}

// NoteMessage is one note on the events WebSocket.
type NoteMessage struct {
	Kind string            `json:"kind"`
	Text string            `json:"text,omitempty"`
	Data map[string]string `json:"data,omitempty"`
}

// PageMessage is what the page sends on the events WebSocket:
// {"type":"hangup"} ends the call; {"type":"candidate", "candidate":
// RTCIceCandidateInit} trickles one of its ICE candidates (an empty
// candidate string: end of candidates).
type PageMessage struct {
	Type      string                   `json:"type"`
	Candidate *webrtc.ICECandidateInit `json:"candidate,omitempty"`
}

// CandidateMessage carries one of our ICE candidates of a trickle call to
// the page on the events WebSocket: {"type":"candidate", "candidate":
// RTCIceCandidateInit}, the last with an empty candidate string (end of
// candidates). Notes have "kind" instead of "type".
type CandidateMessage struct {
	Type      string                  `json:"type"`
	Candidate webrtc.ICECandidateInit `json:"candidate"`
}

// Mount adds the browser-call signalling to grp:
//
//	POST /offer       {"sdp": offer} → {"id", "sdp": answer}; the
//	                  gateway's handler (the assistant) takes the call.
//	                  With "trickle": true the answer comes at once and
//	                  the candidates of both sides go on /events/:id.
//	                  400 for a bad body or offer, 503 when at MaxCalls
//	                  or draining.
//	GET  /events/:id  WebSocket: the leg's notes as JSON (NoteMessage)
//	                  and our trickled candidates (CandidateMessage);
//	                  from the page {"type":"hangup"} and its candidates
//	                  (PageMessage).
//	GET  /ice-servers {"iceServers": [{"urls": [...]}, {"urls": [...],
//	                  "username": ..., "credential": ...}]}: the STUN/TURN
//	                  servers of Config.ICEServers with TURN credentials
//	                  for the page's RTCPeerConnection (ICEConfig).
//
// The call id is 128 random bits and is the only key to the events of a
// call (which carry the assistant's lines: amounts, dates), so it must be
// kept as secret as the call itself.
func (g *Gateway) Mount(grp *echo.Group) {
	grp.POST("/offer", g.handleOffer)
	grp.GET("/events/:id", g.handleEvents)
	grp.GET("/ice-servers", g.handleICEServers)
}

// ICEConfig answers GET /ice-servers: the part of the browser's
// RTCConfiguration the gateway decides. Without it a page's
// RTCPeerConnection gathers host candidates only, and a caller behind NAT
// reaches us only if our own candidates (srflx, relay) reach it.
type ICEConfig struct {
	ICEServers []ICEServer `json:"iceServers"`
}

// ICEServer is one RTCIceServer entry.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// browserICEConfig is the ICEConfig for a page at now (never nil lists:
// the page passes iceServers straight to RTCPeerConnection), with fresh
// TURN credentials when they are ephemeral.
func (g *Gateway) browserICEConfig(now time.Time) ICEConfig {
	c := ICEConfig{ICEServers: []ICEServer{}}
	for _, s := range g.iceServers(now) {
		cred, _ := s.Credential.(string)
		c.ICEServers = append(c.ICEServers, ICEServer{URLs: s.URLs, Username: s.Username, Credential: cred})
	}
	return c
}

// BrowserICEServers are the STUN/TURN servers for a page opening now
// (the consultants' console renders them into its page).
func (g *Gateway) BrowserICEServers() []ICEServer {
	return g.browserICEConfig(time.Now()).ICEServers
}

func (g *Gateway) handleICEServers(c echo.Context) error {
	// no-store: TURN credentials must not sit in shared caches.
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, g.browserICEConfig(time.Now()))
}

func jsonError(c echo.Context, code int, msg string) error {
	return c.JSON(code, map[string]string{"error": msg})
}

func (g *Gateway) handleOffer(c echo.Context) error {
	if g.Draining() {
		c.Response().Header().Set("Retry-After", retryAfterSeconds)
		return jsonError(c, http.StatusServiceUnavailable, "the service is shutting down; try again shortly")
	}
	body := http.MaxBytesReader(c.Response(), c.Request().Body, maxOfferSize+4096)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var req OfferRequest
	if err := dec.Decode(&req); err != nil {
		return jsonError(c, http.StatusBadRequest, "body must be JSON {\"sdp\": \"<offer>\"}")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return jsonError(c, http.StatusBadRequest, "body must be one JSON object")
	}
	if strings.TrimSpace(req.SDP) == "" {
		return jsonError(c, http.StatusBadRequest, "sdp is empty")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), answerTimeout)
	defer cancel()
	answerFn := g.Answer
	if req.Trickle {
		answerFn = g.AnswerTrickle
	}
	answer, leg, err := answerFn(ctx, req.SDP, telephony.LegInfo{From: "browser"})
	switch {
	case errors.Is(err, ErrBadOffer):
		return jsonError(c, http.StatusBadRequest, "unusable SDP offer: PCMU audio is required")
	case errors.Is(err, ErrBusy), errors.Is(err, ErrDraining):
		c.Response().Header().Set("Retry-After", retryAfterSeconds)
		return jsonError(c, http.StatusServiceUnavailable, "all lines are busy; try again shortly")
	case err != nil:
		g.log.Warn("webrtc offer failed", "error", err)
		return jsonError(c, http.StatusInternalServerError, "could not set up the call")
	}
	g.log.Info("browser call", "call_id", leg.ID(), "remote_http", c.RealIP())
	return c.JSON(http.StatusOK, OfferResponse{ID: leg.ID(), SDP: answer})
}

func (g *Gateway) handleEvents(c echo.Context) error {
	leg, ok := g.Leg(c.Param("id"))
	if !ok {
		return jsonError(c, http.StatusNotFound, "no such call")
	}
	if !leg.notesClaim.CompareAndSwap(false, true) {
		return jsonError(c, http.StatusConflict, "the call's events are already being read")
	}
	defer leg.notesClaim.Store(false)
	// Same-origin only (websocket.Accept checks Origin against Host).
	ws, err := websocket.Accept(c.Response(), c.Request(), nil)
	if err != nil {
		return nil // Accept has written the response
	}
	defer ws.CloseNow()
	ws.SetReadLimit(4096)

	ctx, cancel := context.WithCancel(c.Request().Context())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		defer cancel()
		for {
			var m PageMessage
			if err := wsjson.Read(ctx, ws, &m); err != nil {
				return
			}
			switch m.Type {
			case "hangup":
				leg.end(telephony.CauseCallerHangup)
			case "candidate":
				if m.Candidate == nil {
					continue
				}
				if err := leg.AddICECandidate(*m.Candidate); err != nil {
					// A bad candidate costs only itself; ICE goes on
					// with the others.
					g.log.Debug("trickle ICE: page candidate refused", "call_id", leg.ID(), "error", err)
				}
			}
		}
	})
	for {
		select {
		case c := <-leg.LocalCandidates(): // nil channel (no trickle): never
			wctx, wcancel := context.WithTimeout(ctx, noteWriteTimeout)
			err := wsjson.Write(wctx, ws, CandidateMessage{Type: "candidate", Candidate: c})
			wcancel()
			if err != nil {
				return nil
			}
		case n, ok := <-leg.Notes():
			if !ok {
				_ = ws.Close(websocket.StatusNormalClosure, "call ended")
				return nil
			}
			wctx, wcancel := context.WithTimeout(ctx, noteWriteTimeout)
			err := wsjson.Write(wctx, ws, NoteMessage{Kind: n.Kind, Text: n.Text, Data: n.Data})
			wcancel()
			if err != nil {
				return nil
			}
		case <-ctx.Done():
			return nil
		}
	}
}
