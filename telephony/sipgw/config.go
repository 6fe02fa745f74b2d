package sipgw

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"hotline/telephony/telemetry"
)

// Defaults applied by Config.withDefaults.
const (
	DefaultListen              = "0.0.0.0:5060"
	DefaultRTPPortMin          = 10000
	DefaultRTPPortMax          = 20000
	DefaultMediaTimeout        = 15 * time.Second
	DefaultMediaTimeoutInitial = 30 * time.Second
	// DefaultAckTimeout is 64×T1, RFC 3261 Timer H: how long a UAS keeps
	// retransmitting its 2xx before giving up on the ACK (§13.3.1.4).
	DefaultAckTimeout   = 32 * time.Second
	DefaultUserAgent    = "hotline"
	DefaultDrainTimeout = 30 * time.Second
	DefaultRingTimeout  = 30 * time.Second
	DefaultRetryAfter   = 30 * time.Second
)

// Config configures a Server. The zero value of every field means its
// default; tests use Listen "127.0.0.1:0".
type Config struct {
	// Listen is the UDP and TCP address for SIP (default 0.0.0.0:5060).
	// Port 0 picks a free port, the same number for both transports.
	Listen string
	// ContactHost is the IP we announce in Contact, Via and SDP c= (the
	// public IP behind 1:1 NAT). Default: the listen IP, or the first
	// non-loopback IPv4 address of the host when listening on 0.0.0.0.
	ContactHost string
	// RTPPortMin and RTPPortMax bound the RTP ports, one per call (default
	// 10000–20000; even ports only, RTCP's odd neighbours stay free).
	RTPPortMin, RTPPortMax int
	// MediaTimeout ends a call when no RTP arrived for this long after the
	// first packet (default 15 s); MediaTimeoutInitial is the wait for the
	// first packet (default 30 s).
	MediaTimeout, MediaTimeoutInitial time.Duration
	// AckTimeout ends an answered call whose 200 OK was never acknowledged
	// (default 32 s, RFC 3261 Timer H).
	AckTimeout time.Duration
	// MaxCalls is the most concurrent calls; more get 503 (0: unlimited).
	MaxCalls int
	// UserAgent is the User-Agent/Server header and Contact user.
	UserAgent string
	// RingTime is how long inbound calls ring (180) before we answer (0:
	// answer at once).
	RingTime time.Duration
	// RingTimeout bounds an outbound Dial waiting for an answer (default
	// 30 s); the Dial ctx can shorten it.
	RingTimeout time.Duration
	// DrainTimeout bounds how long Serve waits, once its ctx is done, for
	// live calls to end before hanging them up (default 30 s).
	DrainTimeout time.Duration
	// RetryAfter is sent with 503 while draining or full (default 30 s).
	RetryAfter time.Duration
	// SilenceSuppression, if true, sends no RTP while nothing plays. The
	// default (false) sends µ-law silence between prompts: many trunks and
	// NATs drop a call or binding that goes quiet, and a continuous stream
	// keeps the far side's media timeout from firing during long pauses.
	SilenceSuppression bool
	// AuthUsername and AuthPassword answer digest challenges (401/407)
	// to outbound INVITEs.
	AuthUsername, AuthPassword string
	// TransferMode is how Leg.Transfer hands a call to a consultant:
	// "refer" (default; blind transfer by REFER, RFC 3515) or "bridge"
	// (we dial the consultant and relay the audio). See transfer.go.
	TransferMode string
	// TransferTarget is the consultant SIP URI used when a transfer
	// request names none (a PBX queue, e.g. "sip:konsultanci@pbx").
	TransferTarget string
	// ReferTimeout bounds waiting for a REFER's final NOTIFY (default 30 s).
	ReferTimeout time.Duration
	// RingbackTone is what the caller hears while the consultant rings:
	// "etsi" (default: 425 Hz, 1 s on, 4 s off) or "us".
	RingbackTone string
	// Recording configures call recording (recording.go); off by default.
	Recording RecordingConfig
	// Metrics receives the gateway's metrics (calls, SIP responses, RTP,
	// DTMF, transfers); nil records none.
	Metrics *telemetry.Metrics
}

// withDefaults fills zero fields and validates the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return c, fmt.Errorf("sipgw: listen %q: %w", c.Listen, err)
	}
	listenIP, err := netip.ParseAddr(host)
	if err != nil {
		return c, fmt.Errorf("sipgw: listen %q: need an IP address: %w", c.Listen, err)
	}
	if c.ContactHost == "" {
		ip, err := contactIP(listenIP)
		if err != nil {
			return c, err
		}
		c.ContactHost = ip.String()
	} else if _, err := netip.ParseAddr(c.ContactHost); err != nil {
		return c, fmt.Errorf("sipgw: contact host %q: need an IP address: %w", c.ContactHost, err)
	}
	if c.RTPPortMin == 0 && c.RTPPortMax == 0 {
		c.RTPPortMin, c.RTPPortMax = DefaultRTPPortMin, DefaultRTPPortMax
	}
	if c.RTPPortMin < 1024 || c.RTPPortMax > 65534 || c.RTPPortMax-c.RTPPortMin < 2 {
		return c, fmt.Errorf("sipgw: RTP port range %d-%d: need 1024 <= min < max <= 65534",
			c.RTPPortMin, c.RTPPortMax)
	}
	setDefault(&c.MediaTimeout, DefaultMediaTimeout)
	setDefault(&c.MediaTimeoutInitial, DefaultMediaTimeoutInitial)
	setDefault(&c.AckTimeout, DefaultAckTimeout)
	setDefault(&c.RingTimeout, DefaultRingTimeout)
	setDefault(&c.DrainTimeout, DefaultDrainTimeout)
	setDefault(&c.RetryAfter, DefaultRetryAfter)
	if err := c.transferDefaults(); err != nil { // transfer.go
		return c, err
	}
	setDefault(&c.Recording.Retention, DefaultRecordingRetention)
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.MaxCalls < 0 || c.RingTime < 0 {
		return c, errors.New("sipgw: MaxCalls and RingTime must not be negative")
	}
	return c, nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// contactIP picks the address to announce when none is configured.
func contactIP(listen netip.Addr) (netip.Addr, error) {
	if !listen.IsUnspecified() {
		return listen, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("sipgw: no contact host configured and interfaces unreadable: %w", err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				ip = ip.Unmap()
				if ip.Is4() && ip.IsGlobalUnicast() {
					return ip, nil
				}
			}
		}
	}
	return netip.Addr{}, errors.New("sipgw: no contact host configured and no non-loopback IPv4 address found")
}
