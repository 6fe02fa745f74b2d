package webrtcgw

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"

	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/dtmf"
	"hotline/telephony/telephonytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	if os.Getenv("WEBRTCGW_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// client is a browser stand-in: a pion PeerConnection that offers PCMU
// plus telephone-event at tePT (Chrome offers 126; others 101), sends a
// tone as its microphone and RFC 4733 digits the way RTCDTMFSender does
// (the digit replaces the audio on the same SSRC, end packet sent 3×),
// and records the audio it receives.
type client struct {
	t     *testing.T
	pc    *webrtc.PeerConnection
	track *rawTrack
	tePT  uint8
	freq  float64 // the microphone's tone (440 Hz unless set before answer)

	connected chan struct{}
	ended     chan struct{} // the gateway sent an RTCP BYE or closed DTLS
	wg        sync.WaitGroup
	stop      chan struct{}
	stopOnce  sync.Once
	digits    chan rune
	mute      chan bool

	mu       sync.Mutex
	rx       []int16   // decoded received audio
	rxFirst  time.Time // first non-silent packet
	rxLast   time.Time // last non-silent packet
	rxPkts   int
	rxTSBad  int // consecutive packets whose timestamps did not step by 160
	lastTS   uint32
	haveLast bool
}

func newClient(t *testing.T, tePT uint8) *client {
	t.Helper()
	m := &webrtc.MediaEngine{}
	for _, c := range []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mimeTelephoneEv, ClockRate: 8000, SDPFmtpLine: "0-15"}, PayloadType: webrtc.PayloadType(tePT)},
	} {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{
		t: t, pc: pc, tePT: tePT, freq: 440, track: &rawTrack{},
		connected: make(chan struct{}), ended: make(chan struct{}),
		stop: make(chan struct{}), digits: make(chan rune, 16), mute: make(chan bool, 1),
	}
	var connOnce, endOnce sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			connOnce.Do(func() { close(c.connected) })
		case webrtc.PeerConnectionStateClosed:
			endOnce.Do(func() { close(c.ended) })
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		c.wg.Go(func() {
			for {
				pkts, _, err := recv.ReadRTCP()
				if err != nil {
					return
				}
				for _, p := range pkts {
					if _, ok := p.(*rtcp.Goodbye); ok {
						endOnce.Do(func() { close(c.ended) })
					}
				}
			}
		})
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			c.received(p)
		}
	})
	sender, err := pc.AddTrack(c.track)
	if err != nil {
		t.Fatal(err)
	}
	c.wg.Go(func() {
		for {
			if _, _, err := sender.ReadRTCP(); err != nil {
				return
			}
		}
	})
	t.Cleanup(c.close)
	return c
}

func (c *client) received(p *rtp.Packet) {
	pcm := audio.DecodeUlaw(nil, p.Payload)
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rxPkts++
	if c.haveLast && p.Timestamp-c.lastTS != audio.FrameSamples {
		c.rxTSBad++
	}
	c.lastTS, c.haveLast = p.Timestamp, true
	c.rx = append(c.rx, pcm...)
	if audio.RMS(pcm) > 500 {
		if c.rxFirst.IsZero() {
			c.rxFirst = now
		}
		c.rxLast = now
	}
}

// offer returns the client's complete offer (ICE gathered).
func (c *client) offer() string {
	c.t.Helper()
	o, err := c.pc.CreateOffer(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(o); err != nil {
		c.t.Fatal(err)
	}
	<-done
	return c.pc.LocalDescription().SDP
}

// answer applies the gateway's answer and starts sending once connected.
func (c *client) answer(sdp string) {
	c.t.Helper()
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		c.t.Fatal(err)
	}
	select {
	case <-c.connected:
	case <-time.After(10 * time.Second):
		c.t.Fatal("client: ICE did not connect")
	}
	c.wg.Go(c.sendLoop)
}

// sendLoop is the microphone: a 440 Hz tone every 20 ms, replaced by the
// packets of a digit while one is being sent (RFC 4733 §2.5: 100 ms
// event, duration growing by 160 per packet, then the end packet 3×).
func (c *client) sendLoop() {
	var (
		seq   uint16 = 1000
		ts    uint32 = 50000
		tone         = audio.Tone(c.freq, -10, 160*50, audio.Rate)
		pos   int
		tick  = time.NewTicker(audio.FrameDuration)
		muted bool
	)
	defer tick.Stop()
	send := func(pt uint8, marker bool, stamp uint32, payload []byte) {
		h := rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: stamp, Marker: marker}
		_ = c.track.write(&h, payload)
		seq++
	}
	for {
		select {
		case <-c.stop:
			return
		case muted = <-c.mute:
			continue
		case d := <-c.digits:
			code, _ := dtmf.EventForDigit(d)
			evTS := ts
			for i := 1; i <= 8; i++ {
				select {
				case <-c.stop:
					return
				case <-tick.C:
				}
				dur := uint16(min(i, 5) * 160)
				end := i > 5
				pl := dtmf.Payload{Event: code, End: end, Volume: 10, Duration: dur}.Append(nil)
				send(c.tePT, i == 1, evTS, pl)
				ts += 160 // the media clock runs on through the event
			}
			continue
		case <-tick.C:
		}
		if muted {
			ts += 160
			continue
		}
		frame := tone[pos : pos+160]
		pos = (pos + 160) % len(tone)
		send(0, false, ts, audio.EncodeUlaw(nil, frame))
		ts += 160
	}
}

// press queues digits for sending.
func (c *client) press(keys string) {
	for _, k := range keys {
		c.digits <- k
	}
}

// hangupBye is an RTCP BYE (RFC 3550 §6.6) without closing. The
// client is closed later (Cleanup): closing at once sends DTLS
// close_notify, which pion's peer may act on before it reads the BYE.
func (c *client) hangupBye() {
	c.t.Helper()
	if ssrc := c.track.ssrcOrZero(); ssrc != 0 {
		if err := c.pc.WriteRTCP([]rtcp.Packet{&rtcp.Goodbye{Sources: []uint32{ssrc}}}); err != nil {
			c.t.Errorf("client bye: %v", err)
		}
	}
}

func (c *client) close() {
	c.stopOnce.Do(func() {
		close(c.stop)
		_ = c.pc.GracefulClose()
		c.wg.Wait()
	})
}

// audioStats returns the received audio and the span of its non-silent part.
func (c *client) audioStats() (pcm []int16, span time.Duration, pkts, tsBad int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int16(nil), c.rx...), c.rxLast.Sub(c.rxFirst), c.rxPkts, c.rxTSBad
}

// rawTrack is a TrackLocal that writes RTP headers as given (PT
// included), which pion's static tracks do not allow: they rewrite the PT
// to the track's codec, and a browser's DTMF uses another PT.
type rawTrack struct {
	mu   sync.Mutex
	w    webrtc.TrackLocalWriter
	ssrc webrtc.SSRC
}

func (r *rawTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w, r.ssrc = ctx.WriteStream(), ctx.SSRC()
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, webrtc.MimeTypePCMU) {
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

func (r *rawTrack) Unbind(webrtc.TrackLocalContext) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w = nil
	return nil
}

func (r *rawTrack) ID() string                { return "mic" }
func (r *rawTrack) RID() string               { return "" }
func (r *rawTrack) StreamID() string          { return "client" }
func (r *rawTrack) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }
func (r *rawTrack) ssrcOrZero() uint32        { r.mu.Lock(); defer r.mu.Unlock(); return uint32(r.ssrc) }
func (r *rawTrack) write(h *rtp.Header, payload []byte) error {
	r.mu.Lock()
	w, ssrc := r.w, r.ssrc
	r.mu.Unlock()
	if w == nil {
		return io.ErrClosedPipe
	}
	h.SSRC = uint32(ssrc)
	_, err := w.WriteRTP(h, payload)
	return err
}

// loudFrames counts 20 ms frames of pcm louder than rms whose energy is
// mostly at freq.
func loudFrames(pcm []int16, freq, rms float64) int {
	n := 0
	for _, f := range audio.Frames(pcm) {
		if len(f) == audio.FrameSamples && audio.RMS(f) > rms && telephonytest.ToneShare(f, freq) > 0.8 {
			n++
		}
	}
	return n
}

// recorder is a handler that plays a 1 kHz tone, then records the
// caller's digits and audio until the leg ends.
type recorder struct {
	tone     time.Duration
	mu       sync.Mutex
	digits   []rune
	loud     int // frames at 440 Hz heard
	played   chan error
	ended    chan telephony.Cause
	gotDigit chan struct{}
}

func newRecorder(tone time.Duration) *recorder {
	return &recorder{tone: tone, played: make(chan error, 1), ended: make(chan telephony.Cause, 1), gotDigit: make(chan struct{}, 64)}
}

func (r *recorder) ServeCall(ctx context.Context, leg telephony.Leg) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		for ev := range leg.Events() {
			if ev.Kind == telephony.EventDTMF {
				r.mu.Lock()
				r.digits = append(r.digits, ev.Digit)
				r.mu.Unlock()
				r.gotDigit <- struct{}{}
			}
		}
	})
	wg.Go(func() {
		var f audio.Frame
		for leg.ReadAudio(ctx, &f) == nil {
			if audio.RMS(f[:]) > 1000 && telephonytest.ToneShare(f[:], 440) > 0.8 {
				r.mu.Lock()
				r.loud++
				r.mu.Unlock()
			}
		}
	})
	src := audio.NewFrameReader(audio.Tone(1000, -6, int(r.tone/time.Millisecond)*8, audio.Rate))
	r.played <- leg.Play(ctx, frameReader{src})
	<-leg.Done()
	r.ended <- leg.Cause()
	return nil
}

func (r *recorder) result() (string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.digits), r.loud
}

// frameReader adapts audio.FrameReader to telephony.FrameSource.
type frameReader struct{ r *audio.FrameReader }

func (s frameReader) ReadFrame(f *audio.Frame) error {
	if !s.r.ReadFrame(f) {
		return io.EOF
	}
	return nil
}

func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}
