package main

import (
	"context"
	"fmt"
	"time"

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
		Names: caseNames{a.book},
	}, a.log)
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

// gatewayAcceptor adapts the WebRTC gateway to the console.
type gatewayAcceptor struct{ g *webrtcgw.Gateway }

func (a gatewayAcceptor) Accept(ctx context.Context, offer string, info telephony.LegInfo) (string, telephony.Leg, error) {
	answer, leg, err := a.g.Accept(ctx, offer, info)
	if err != nil {
		return "", nil, err
	}
	return answer, leg, nil
}

// startConsole mounts /console on srv and runs the queue's and the
// console's event loops until the returned stop is called. gw (may be
// nil: answering is then refused) carries consultants' browser legs.
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
	if gw != nil {
		legs = gatewayAcceptor{gw}
	} else {
		a.log.Warn("console: no WebRTC gateway, consultants cannot answer in the browser")
	}
	con, err := console.New(a.rdb, a.cfg.Redis.Prefix, a.queue, legs, console.Options{
		Users: users, SessionTTL: c.SessionTTL, CookieSecure: c.CookieSecure,
		LoginLimit: c.LoginLimit, LoginWindow: c.LoginWindow, Logger: a.log,
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
		if gw != nil {
			// The consultants' legs end with their callers' (SIP drains
			// first); whatever is left is cut here.
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			if err := gw.Shutdown(sctx); err != nil {
				a.log.Warn("console: browser legs cut at shutdown", "err", err)
			}
		}
	}, nil
}

// consoleGateway builds the WebRTC gateway that carries consultants'
// browser legs from webrtc.* (Accept only, no handler; nil when
// webrtc.enabled is false). It is separate from the test call page's
// gateway (webrtc.go) so the console does not depend on that page.
func (a *app) consoleGateway() *webrtcgw.Gateway {
	c := a.cfg.WebRTC
	if !c.Enabled {
		return nil
	}
	gw, err := webrtcgw.New(webrtcgw.Config{
		ICEServers: c.ICEServers, NAT1To1IPs: c.NAT1To1IPs,
		UDPPortMin: uint16(c.UDPPortMin), UDPPortMax: uint16(c.UDPPortMax), // validated <= 65535
		LoopbackOnly: c.LoopbackOnly, MediaTimeout: c.MediaTimeout, MaxCalls: c.MaxCalls,
	}, nil, a.log)
	if err != nil {
		a.log.Error("console: WebRTC gateway", "err", err)
		return nil
	}
	return gw
}
