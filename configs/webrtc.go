package configs

import (
	"net"
	"strings"
	"time"
)

// WebRTCConfig configures browser calls (telephony/webrtcgw): the test
// call page at / and its signalling at /webrtc.
type WebRTCConfig struct {
	// Enabled serves the page and takes browser calls.
	Enabled bool `yaml:"enabled"`
	// ICEServers are STUN/TURN URLs for the server's PeerConnections
	// (stun:host:port, turn:host:port); empty: host candidates only.
	ICEServers []string `yaml:"ice_servers"`
	// TURNUsername and TURNPassword are static credentials for the TURN
	// URLs (served to every page that opens: prefer TURNSecret).
	TURNUsername string `yaml:"turn_username"`
	TURNPassword string `yaml:"turn_password"`
	// TURNSecret is the secret shared with the TURN server for ephemeral
	// credentials (TURN REST API; coturn static-auth-secret), valid for
	// TURNTTL, minted per call and per page; it overrides the static ones.
	TURNSecret string        `yaml:"turn_secret"`
	TURNTTL    time.Duration `yaml:"turn_ttl"`
	// NAT1To1IPs are public IPs announced instead of the local ones (a
	// server behind 1:1 NAT).
	NAT1To1IPs []string `yaml:"nat_1to1_ips"`
	// UDPPortMin/Max bound the ICE UDP ports; both 0: any port.
	UDPPortMin int `yaml:"udp_port_min"`
	UDPPortMax int `yaml:"udp_port_max"`
	// LoopbackOnly gathers only 127.0.0.1 candidates: for tests in a
	// private network namespace, never for production.
	LoopbackOnly bool          `yaml:"loopback_only"`
	MediaTimeout time.Duration `yaml:"media_timeout"` // no RTP (or ICE failed) for this long ends a call
	MaxCalls     int           `yaml:"max_calls"`     // 0: unlimited; beyond it the page hears "busy"
}

// check reports problems through bad, keys named as in the YAML file.
func (c WebRTCConfig) check(bad func(key, format string, args ...any)) {
	for _, u := range c.ICEServers {
		if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
			bad("webrtc.ice_servers", "%q is not a stun:, turn: or turns: URL", u)
		}
	}
	turn := false
	for _, u := range c.ICEServers {
		turn = turn || strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:")
	}
	if turn && c.TURNSecret == "" && (c.TURNUsername == "" || c.TURNPassword == "") {
		bad("webrtc.turn_secret", "TURN servers in webrtc.ice_servers need turn_secret (ephemeral credentials) or turn_username and turn_password")
	}
	if c.TURNTTL <= 0 {
		bad("webrtc.turn_ttl", "must be a positive duration, got %s", c.TURNTTL)
	}
	for _, ip := range c.NAT1To1IPs {
		if net.ParseIP(ip) == nil {
			bad("webrtc.nat_1to1_ips", "%q is not an IP address", ip)
		}
	}
	if (c.UDPPortMin != 0 || c.UDPPortMax != 0) &&
		(c.UDPPortMin < 1024 || c.UDPPortMax > 65535 || c.UDPPortMin > c.UDPPortMax) {
		bad("webrtc.udp_port_min/max", "need both 0, or 1024 <= min <= max <= 65535, got %d..%d", c.UDPPortMin, c.UDPPortMax)
	}
	if c.MediaTimeout <= 0 {
		bad("webrtc.media_timeout", "must be a positive duration, got %s", c.MediaTimeout)
	}
	if c.MaxCalls < 0 {
		bad("webrtc.max_calls", "must not be negative")
	}
}
