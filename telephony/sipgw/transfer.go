package sipgw

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/telemetry"
)

// Transfer modes (Config.TransferMode).
const (
	// TransferRefer is a blind transfer (RFC 3515): the caller's side is
	// asked with REFER to call the consultant itself; NOTIFYs report how
	// that call went. The PBX or trunk must support REFER.
	TransferRefer = "refer"
	// TransferBridge: we dial the consultant (with the call's context in
	// X- headers) and relay audio between the two legs until either side
	// hangs up. Works with any peer; keeps our media in the path.
	TransferBridge = "bridge"
)

// Ringback tones (Config.RingbackTone), played to the caller while the
// consultant's phone rings.
const (
	// RingbackETSI is the European ringing tone used in Poland: 425 Hz,
	// 1 s on, 4 s off (ETSI TR 101 041-2).
	RingbackETSI = "etsi"
	// RingbackUS is the North American one: 440+480 Hz, 2 s on, 4 s off.
	RingbackUS = "us"
)

// DefaultReferTimeout bounds waiting for the final NOTIFY of a REFER.
const DefaultReferTimeout = 30 * time.Second

// ringbackDBFS is the ringback's peak level: about −16 dBm0, the level
// of a network ringing tone, well below speech so it is not startling.
const ringbackDBFS = -13

// ErrNoTransferTarget: Transfer was called with no target and none is
// configured. It comes wrapped in telephony.ErrTransferFailed.
var ErrNoTransferTarget = errors.New("sipgw: no transfer target")

// errTransferRunning: a second Transfer while one is in progress.
var errTransferRunning = errors.New("sipgw: a transfer is already in progress")

// transferDefaults fills and checks the transfer fields of Config
// (called from withDefaults), so a bad target fails at startup rather
// than in the middle of a debtor's call.
func (c *Config) transferDefaults() error {
	c.TransferMode = cmp.Or(strings.ToLower(strings.TrimSpace(c.TransferMode)), TransferRefer)
	if c.TransferMode != TransferRefer && c.TransferMode != TransferBridge {
		return fmt.Errorf("sipgw: transfer mode %q: want %q or %q", c.TransferMode, TransferRefer, TransferBridge)
	}
	c.RingbackTone = cmp.Or(strings.ToLower(strings.TrimSpace(c.RingbackTone)), RingbackETSI)
	if c.RingbackTone != RingbackETSI && c.RingbackTone != RingbackUS {
		return fmt.Errorf("sipgw: ringback tone %q: want %q or %q", c.RingbackTone, RingbackETSI, RingbackUS)
	}
	setDefault(&c.ReferTimeout, DefaultReferTimeout)
	if c.TransferTarget != "" {
		t, err := parseTarget(c.TransferTarget, c.TransferMode)
		if err != nil {
			return err
		}
		c.TransferTarget = t
	}
	return nil
}

// parseTarget checks a transfer target and returns it without angle
// brackets. A bridge dials it, so it must be sip:; REFER also takes sips:.
// The URI is not quoted in errors: its user part may be a phone number.
func parseTarget(target, mode string) (string, error) {
	target = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(target), "<"), ">")
	var uri sip.Uri
	if err := sip.ParseUri(target, &uri); err != nil || uri.Host == "" {
		return "", fmt.Errorf("sipgw: transfer target is not a SIP URI: %w", cmp.Or(err, errors.New("no host")))
	}
	if uri.Scheme != "sip" && (mode == TransferBridge || uri.Scheme != "sips") {
		return "", fmt.Errorf("sipgw: transfer target: scheme %q not usable for %s", uri.Scheme, mode)
	}
	if strings.ContainsAny(target, "\r\n<>") {
		return "", errors.New("sipgw: transfer target: characters not allowed in a URI")
	}
	return target, nil
}

// transfer implements Leg.Transfer: REFER (sip_refer.go) or bridge
// (sip_bridge.go) by Config.TransferMode. One transfer at a time.
func (s *Server) transfer(ctx context.Context, c *call, req telephony.TransferRequest) error {
	raw := cmp.Or(strings.TrimSpace(req.Target), s.cfg.TransferTarget)
	if raw == "" {
		return fmt.Errorf("%w: %w", telephony.ErrTransferFailed, ErrNoTransferTarget)
	}
	target, err := parseTarget(raw, s.cfg.TransferMode)
	if err != nil {
		return fmt.Errorf("%w: %w", telephony.ErrTransferFailed, err)
	}
	if !c.xfer.begin() {
		return fmt.Errorf("%w: %w", telephony.ErrTransferFailed, errTransferRunning)
	}
	defer c.xfer.finish()
	select {
	case <-c.ending:
		return c.endedResult()
	default:
	}
	start := time.Now()
	if s.cfg.TransferMode == TransferBridge {
		err = s.bridgeTransfer(ctx, c, target, req.Headers)
	} else {
		err = s.referTransfer(ctx, c, target)
	}
	s.countTransfer(c, err, start)
	return err
}

// countTransfer records a transfer's outcome and the caller's wait: the
// consultant's ring for a bridge (which returns only when the bridged
// conversation is over), the whole attempt otherwise.
func (s *Server) countTransfer(c *call, err error, start time.Time) {
	outcome := telemetry.TransferOK
	switch {
	case errors.Is(err, telephony.ErrLegClosed):
		outcome = telemetry.TransferCallerGone
	case err != nil:
		outcome = telemetry.TransferFailed
	}
	wait := time.Since(start)
	c.xfer.mu.Lock()
	if c.xfer.answeredAt != (time.Time{}) {
		wait = c.xfer.answeredAt.Sub(start)
	}
	c.xfer.mu.Unlock()
	s.metrics.Transfer(legType, s.cfg.TransferMode, outcome, wait)
}

// transferState is a call's part in a transfer; the zero value is "no
// transfer". A consultant leg of a bridge uses it too (handedOff).
type transferState struct {
	mu      sync.Mutex
	running bool
	// sub is the REFER subscription NOTIFYs report on (nil: none).
	sub *referSub
	// handedOff: the call belongs to a consultant now (the REFER was
	// accepted, or the leg is bridged), so the peer's BYE completes the
	// transfer instead of being a plain hangup.
	handedOff bool
	// bridged: the bridge owns the leg's audio until the leg ends.
	bridged bool
	// answeredAt: when the bridged consultant answered (zero: not yet).
	answeredAt time.Time
}

func (x *transferState) begin() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.running {
		return false
	}
	x.running = true
	return true
}

// finish ends a transfer attempt; a failed one leaves nothing behind.
func (x *transferState) finish() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.running, x.sub = false, nil
	if !x.bridged {
		x.handedOff = false
	}
}

func (x *transferState) setHandedOff(v bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.handedOff = v
}

func (x *transferState) isBridged() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.bridged
}

// byeCause is the cause to record when the peer sends BYE: a transfer
// that was handed off is complete when the peer leaves (a transferee
// hanging up after accepting the REFER, or either party ending a bridged
// conversation); otherwise the caller hung up.
func (c *call) byeCause() telephony.Cause {
	c.xfer.mu.Lock()
	defer c.xfer.mu.Unlock()
	if c.xfer.handedOff {
		return telephony.CauseTransferred
	}
	return telephony.CauseCallerHangup
}

// bridgeGate keeps the handler off a bridged leg's audio: the bridge is
// the one reader of the caller's audio and the one player to it. While
// bridged, the handler's ReadAudio and Play wait for the leg to end,
// which is how every bridge ends.
func (c *call) bridgeGate(ctx context.Context) error {
	if !c.xfer.isBridged() {
		return nil
	}
	select {
	case <-c.ending:
		return telephony.ErrLegClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// endedResult is Transfer's result once the leg has started ending: nil
// if it ended because the transfer completed, else ErrLegClosed. It waits
// for the teardown, which is bounded (byeTimeout).
func (c *call) endedResult() error {
	<-c.done
	if cause := c.Cause(); cause != telephony.CauseTransferred {
		return fmt.Errorf("sipgw: transfer: %w (%s)", telephony.ErrLegClosed, cause)
	}
	return nil
}

// startRingback plays the ringback tone to the caller until stop is
// called; stop waits for the playout to let go of the leg, so the
// handler's next Play (or the bridge) starts cleanly, with no ringback
// frames left in the send queue.
func (c *call) startRingback(tone string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := c.media.play(ctx, c.ending, newRingback(tone))
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, telephony.ErrLegClosed) {
			c.log.Warn("ringback failed", "error", err)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
}

// ringback is an endless cadenced tone: tone, then silence, for each
// period. It is a telephony.FrameSource that never ends.
type ringback struct {
	tone   []int16 // the "on" part of one period
	period int     // samples per period
	pos    int     // position in the period
}

func newRingback(kind string) *ringback {
	if kind == RingbackUS {
		on := audio.Tone(440, ringbackDBFS-6, 2*audio.Rate, audio.Rate)
		audio.Mix(on, audio.Tone(480, ringbackDBFS-6, 2*audio.Rate, audio.Rate))
		return &ringback{tone: on, period: 6 * audio.Rate}
	}
	// 425 whole cycles in 1 s: the burst ends at phase 0, without a click.
	return &ringback{tone: audio.Tone(425, ringbackDBFS, audio.Rate, audio.Rate), period: 5 * audio.Rate}
}

// ReadFrame implements telephony.FrameSource.
func (r *ringback) ReadFrame(f *audio.Frame) error {
	for i := range f {
		if r.pos < len(r.tone) {
			f[i] = r.tone[r.pos]
		} else {
			f[i] = 0
		}
		r.pos = (r.pos + 1) % r.period
	}
	return nil
}
