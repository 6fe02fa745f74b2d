package main

import (
	"context"
	"time"

	"hotline/assistant/httpapi"
	"hotline/telephony"
	"hotline/telephony/webrtcgw"
)

// webrtcPath is where the gateway's signalling is mounted: POST
// /webrtc/offer, GET /webrtc/events/:id (also the consultants' trickle ICE
// socket, console.go).
const webrtcPath = "/webrtc"

// newWebRTCGateway builds the browser gateway from webrtc.* and mounts
// the test call page at / and its signalling at /webrtc on srv; browser
// calls go to h, like SIP calls. It returns nil when webrtc.enabled is
// false.
func (a *app) newWebRTCGateway(h telephony.Handler, srv *httpapi.Server) (*webrtcgw.Gateway, error) {
	c := a.cfg.WebRTC
	if !c.Enabled {
		a.log.Info("browser calls off (webrtc.enabled)")
		return nil, nil
	}
	gw, err := webrtcgw.New(webrtcgw.Config{
		ICEServers: c.ICEServers, NAT1To1IPs: c.NAT1To1IPs,
		TURNUsername: c.TURNUsername, TURNCredential: c.TURNPassword,
		TURNSecret: c.TURNSecret, TURNCredentialTTL: c.TURNTTL,
		UDPPortMin: uint16(c.UDPPortMin), UDPPortMax: uint16(c.UDPPortMax), // validated <= 65535
		LoopbackOnly: c.LoopbackOnly, MediaTimeout: c.MediaTimeout, MaxCalls: c.MaxCalls,
		Metrics: a.metrics.telephony,
	}, h, a.log)
	if err != nil {
		return nil, err
	}
	gw.Mount(srv.Echo().Group(webrtcPath))
	webrtcgw.MountPage(srv.Echo().Group(""))
	if c.LoopbackOnly {
		a.log.Warn("webrtc.loopback_only is on: browser calls work from this host only (tests)")
	}
	return gw, nil
}

// stopWebRTC lets live browser calls finish within timeout, then ends
// the rest (CauseShutdown) and waits for their conversations' legs.
func (a *app) stopWebRTC(gw *webrtcgw.Gateway, timeout time.Duration) {
	if gw == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := gw.Shutdown(ctx); err != nil {
		a.log.Warn("browser calls cut at shutdown", "err", err)
	}
}
