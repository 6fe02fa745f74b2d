package sipgw

import (
	"context"

	"hotline/telephony"
	"hotline/telephony/audio"
)

// bridgeSide is what the bridge needs of a leg: its audio in and out.
// telephony.Leg has both, so a SIP leg can be bridged to a WebRTC one.
type bridgeSide interface {
	ReadAudio(ctx context.Context, f *audio.Frame) error
	Play(ctx context.Context, src telephony.FrameSource) error
}

// bridge relays audio both ways between a and b, in the PCM domain (so
// the legs may use different codecs), until either direction stops:
// one side ended, or ctx. It returns once both directions have stopped,
// with the error that stopped the first. Ending the legs is the caller's
// job.
//
// Each direction is the receiving leg's Play fed frame by frame from the
// other leg's ReadAudio: the jitter buffer paces the reads at 20 ms and
// the send loop paces the writes, so the added delay is the jitter
// buffer's plus at most the send queue (60 ms).
func bridge(ctx context.Context, a, b bridgeSide) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- relay(ctx, a, b) }()
	go func() { errc <- relay(ctx, b, a) }()
	first := <-errc
	cancel() // the other direction may be blocked on a leg that is still up
	<-errc
	return first
}

// relay plays from's audio to to until either fails.
func relay(ctx context.Context, from, to bridgeSide) error {
	return to.Play(ctx, relaySource{ctx: ctx, from: from})
}

// relaySource is a FrameSource reading another leg's audio.
type relaySource struct {
	ctx  context.Context
	from bridgeSide
}

// ReadFrame implements telephony.FrameSource.
func (r relaySource) ReadFrame(f *audio.Frame) error { return r.from.ReadAudio(r.ctx, f) }

// callAudio is a SIP call's audio without the handler's bridge gate:
// the bridge's own access to a bridged leg.
type callAudio struct{ c *call }

func (a callAudio) ReadAudio(ctx context.Context, f *audio.Frame) error {
	return a.c.media.jb.Read(ctx, a.c.ending, f)
}

func (a callAudio) Play(ctx context.Context, src telephony.FrameSource) error {
	return a.c.media.play(ctx, a.c.ending, src)
}
