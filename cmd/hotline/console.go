package main

import (
	"context"
	"fmt"
	"net/url"

	"hotline/assistant/calendar"
	"hotline/assistant/cases"
	"hotline/assistant/console"
	"hotline/assistant/consultants"
	"hotline/assistant/httpapi"
	"hotline/dialogs"
	"hotline/telephony"
	"hotline/telephony/webrtcgw"
)

// consultantsFor builds the consultants' service (presence and the
// waiting queue in Redis) and returns it as the flow's view of whether a
// transfer can be offered: within hours, and someone available or
// callers may queue.
func (a *app) consultantsFor(hours calendar.Hours) dialogs.Consultants {
	c := a.cfg.Console
	a.queue = consultants.New(a.rdb, a.cfg.Redis.Prefix, consultants.Options{
		Hours: hours, QueueWithoutConsultants: c.QueueWithoutConsultants,
		QueueTimeout: c.QueueTimeout, RingTimeout: c.RingTimeout, PresenceTTL: c.PresenceTTL,
		Names: caseNames{a.book}, Observer: a.metrics.assistant,
	}, a.log)
	a.metrics.assistant.WatchQueue(a.queue) // queue length and presence, read per scrape
	return a.queue
}

// caseNames gives the screen-pop the debtor's name.
type caseNames struct{ book *cases.Book }

func (n caseNames) DebtorName(ctx context.Context, number string) (string, error) {
	c, err := n.book.Get(ctx, number)
	if err != nil {
		return "", err
	}
	return c.DebtorName, nil
}

// consultantQueue is the queue the voice handler hands transfers to: the
// console's queue, unless SIP transfers go to a PBX (sip.transfer_target).
func (a *app) consultantQueue() *consultants.Service {
	if a.queue == nil || a.cfg.SIP.TransferTarget != "" {
		return nil
	}
	return a.queue
}

// callNotes gives the calls API the consultants' notes (nil without the
// consultants' service).
func (a *app) callNotes() httpapi.NoteReader {
	if a.queue == nil {
		return nil
	}
	return consultantNotes{a.queue}
}

// consultantNotes adapts the consultants' call record to the calls API.
type consultantNotes struct{ q *consultants.Service }

var _ httpapi.NoteReader = consultantNotes{}

func (n consultantNotes) CallNotes(ctx context.Context, id string) ([]httpapi.CallNote, error) {
	notes, err := n.q.Notes(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]httpapi.CallNote, len(notes))
	for i, note := range notes {
		out[i] = httpapi.CallNote{At: note.At, By: note.By, Text: note.Text}
	}
	return out, nil
}

// gatewayAcceptor adapts the WebRTC gateway to the console. A trickling
// consultant's browser exchanges candidates on the gateway's events
// socket of its leg (webrtcPath, webrtc.go).
type gatewayAcceptor struct{ g *webrtcgw.Gateway }

func (a gatewayAcceptor) Accept(ctx context.Context, offer string, info telephony.LegInfo, trickle bool) (string, string, telephony.Leg, error) {
	if !trickle {
		answer, leg, err := a.g.Accept(ctx, offer, info)
		if err != nil {
			return "", "", nil, err
		}
		return answer, "", leg, nil
	}
	answer, leg, err := a.g.AcceptTrickle(ctx, offer, info)
	if err != nil {
		return "", "", nil, err
	}
	return answer, webrtcPath + "/events/" + url.PathEscape(leg.ID()), leg, nil
}

// startConsole mounts /console on srv and runs the queue's and the
// console's event loops until the returned stop is called. gw is the
// gateway of browser calls (newWebRTCGateway; nil when webrtc.enabled is
// false: answering is then refused): consultants' legs are Accepted on
// it, so they share its pion API, UDP port range, MaxCalls, drain and
// shutdown with the test page's calls.
func (a *app) startConsole(ctx context.Context, srv *httpapi.Server, gw *webrtcgw.Gateway) (stop func(), err error) {
	if a.queue == nil {
		return func() {}, nil
	}
	c := a.cfg.Console
	users := make([]console.User, len(c.Users))
	for i, u := range c.Users {
		users[i] = console.User{Name: u.Name, DisplayName: u.DisplayName, PasswordHash: u.PasswordHash, Role: u.Role}
	}
	if c.OnlyDemoUsers() {
		a.log.Warn("console: only the DEMO accounts exist (konsultant / demo-konsultant, kierownik / demo-kierownik): " +
			"configure console.users before real use")
	}
	var legs console.LegAcceptor
	var ice func() any
	if gw != nil {
		legs = gatewayAcceptor{gw}
		ice = func() any { return gw.BrowserICEServers() }
	} else {
		a.log.Warn("console: no WebRTC gateway, consultants cannot answer in the browser")
	}
	desk, err := a.callbackDesk() // handoff.go: nil unless outbound.callbacks_to is consultants
	if err != nil {
		return nil, err
	}
	con, err := console.New(a.rdb, a.cfg.Redis.Prefix, a.queue, legs, console.Options{
		Users: users, SessionTTL: c.SessionTTL, CookieSecure: c.CookieSecure,
		LoginLimit: c.LoginLimit, LoginWindow: c.LoginWindow, Logger: a.log,
		ICEServers: ice, Callbacks: desk,
	})
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	con.Mount(srv.Echo())
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{}, 2)
	go func() {
		defer func() { done <- struct{}{} }()
		if err := a.queue.Run(rctx); err != nil {
			a.log.Error("consultants: event loop stopped", "err", err)
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		_ = con.Run(rctx)
	}()
	return func() {
		cancel()
		<-done
		<-done
		// The consultants' legs live on the shared gateway: they end with
		// their callers' (SIP drains first), and serve's stopWebRTC cuts
		// whatever is left after this returns.
	}, nil
}
