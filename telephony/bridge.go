package telephony

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"hotline/telephony/audio"
)

// bridgeHangupTimeout bounds hanging up the surviving leg of a bridge
// (a SIP BYE waits for its 200).
const bridgeHangupTimeout = 10 * time.Second

// Bridge connects two live legs of any kinds (SIP ↔ WebRTC, WebRTC ↔
// WebRTC): each leg hears the other, in the PCM domain, so the legs may
// use different codecs. The caller of Bridge must own both legs' audio:
// nobody else may ReadAudio or Play on them meanwhile.
//
// When either leg ends, Bridge hangs up the other with CauseTransferred
// (the bridged conversation is over; the first leg keeps its own cause)
// and returns nil once both are down. When a direction fails for another
// reason, both legs end with CauseFailed and the error is returned.
//
// Cancelling ctx only stops relaying: Bridge returns context.Cause(ctx)
// with both legs still up, so the owner can, e.g., put the caller back
// with the assistant.
func Bridge(ctx context.Context, a, b Leg) error {
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	errc := make(chan error, 2)
	wg.Go(func() { errc <- relayAudio(rctx, a, b) })
	wg.Go(func() { errc <- relayAudio(rctx, b, a) })

	var other Leg
	var failure error
	select {
	case <-a.Done():
		other = b
	case <-b.Done():
		other = a
	case <-ctx.Done():
		stop()
		wg.Wait()
		return context.Cause(ctx)
	case err := <-errc:
		if isLegEnd(err) {
			// A direction stopped because its leg ended: wait for Done.
			select {
			case <-a.Done():
				other = b
			case <-b.Done():
				other = a
			case <-ctx.Done():
				stop()
				wg.Wait()
				return context.Cause(ctx)
			}
			break
		}
		failure = fmt.Errorf("telephony: bridge: %w", err)
	}
	stop()
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bridgeHangupTimeout)
	defer cancel()
	if failure != nil {
		_ = a.Hangup(hctx, CauseFailed)
		_ = b.Hangup(hctx, CauseFailed)
		waitDone(hctx, a, b)
		return failure
	}
	_ = other.Hangup(hctx, CauseTransferred)
	waitDone(hctx, a, b)
	return nil
}

// isLegEnd reports whether a relay stopped because a leg ended (or the
// bridge stopped it), not because of a failure.
func isLegEnd(err error) bool {
	return err == nil || errors.Is(err, ErrLegClosed) || errors.Is(err, context.Canceled)
}

// waitDone waits for both legs' teardown, bounded by ctx.
func waitDone(ctx context.Context, legs ...Leg) {
	for _, l := range legs {
		select {
		case <-l.Done():
		case <-ctx.Done():
			return
		}
	}
}

// relayAudio plays from's audio to to until either leg ends or ctx.
func relayAudio(ctx context.Context, from, to Leg) error {
	return to.Play(ctx, legSource{ctx: ctx, leg: from})
}

// legSource is a FrameSource reading another leg's audio: the receiving
// leg's Play paces it, the sending leg's jitter buffer feeds it.
type legSource struct {
	ctx context.Context
	leg Leg
}

// ReadFrame implements FrameSource.
func (s legSource) ReadFrame(f *audio.Frame) error { return s.leg.ReadAudio(s.ctx, f) }
