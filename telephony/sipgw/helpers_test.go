package sipgw

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/dtmf"
	"hotline/telephony/telephonytest"
)

// testTimeout bounds every end-to-end test.
const testTimeout = 30 * time.Second

func levelLogger(t *testing.T, level slog.Level) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
}

// endRecord is what OnCallEnd reported.
type endRecord struct {
	info  telephony.LegInfo
	cause telephony.Cause
}

// gateway is a Server under test, serving on 127.0.0.1:0.
type gateway struct {
	*Server
	ended chan endRecord
	stop  func() error // cancels Serve and returns its result
}

func startGateway(t *testing.T, cfg Config, h telephony.Handler) *gateway {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	if cfg.RTPPortMin == 0 {
		cfg.RTPPortMin, cfg.RTPPortMax = 30000, 39998
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 2 * time.Second
	}
	srv, err := New(cfg, h, levelLogger(t, slog.LevelInfo))
	if err != nil {
		t.Fatal(err)
	}
	g := &gateway{Server: srv, ended: make(chan endRecord, 16)}
	srv.OnCallEnd(func(info telephony.LegInfo, cause telephony.Cause) { g.ended <- endRecord{info, cause} })
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-errc:
		t.Fatalf("Serve: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve not ready")
	}
	var stopped bool
	var stopErr error
	g.stop = func() error {
		if stopped {
			return stopErr
		}
		stopped = true
		cancel()
		select {
		case stopErr = <-errc:
		case <-time.After(testTimeout):
			stopErr = errors.New("Serve did not return")
		}
		return stopErr
	}
	t.Cleanup(func() {
		if err := g.stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return g
}

// uri is the SIP URI of the gateway for user.
func (g *gateway) uri(user string) string { return "sip:" + user + "@" + g.Addr().String() }

// waitEnd returns the next OnCallEnd record.
func (g *gateway) waitEnd(t *testing.T) endRecord {
	t.Helper()
	select {
	case r := <-g.ended:
		return r
	case <-time.After(testTimeout):
		t.Fatal("no call ended")
		return endRecord{}
	}
}

// refuseCalls is the handler of test phones, which only dial out.
var refuseCalls = telephony.HandlerFunc(func(context.Context, telephony.Leg) error {
	return errors.New("test phone takes no calls")
})

// startPhone is a second Server used as the calling party (UAC).
func startPhone(t *testing.T, cfg Config) *gateway {
	t.Helper()
	cfg.UserAgent = "phone"
	return startGateway(t, cfg, refuseCalls)
}

// pcmSource plays samples.
type pcmSource struct{ r *audio.FrameReader }

func (s pcmSource) ReadFrame(f *audio.Frame) error {
	if !s.r.ReadFrame(f) {
		return io.EOF
	}
	return nil
}

func toneSource(freq float64, d time.Duration) telephony.FrameSource {
	return pcmSource{audio.NewFrameReader(audio.Tone(freq, -6, int(d/time.Millisecond)*8, audio.Rate))}
}

// dtmfSource plays key as a 100 ms dual tone followed by 100 ms silence.
func dtmfSource(key rune) telephony.FrameSource {
	freqs := map[rune][2]float64{'1': {697, 1209}, '3': {697, 1477}, '5': {770, 1336}, '7': {852, 1209}, '9': {852, 1477}}[key]
	lo := audio.Tone(freqs[0], -10, 800, audio.Rate)
	audio.Mix(lo, audio.Tone(freqs[1], -10, 800, audio.Rate))
	return pcmSource{audio.NewFrameReader(append(lo, make([]int16, 800)...))}
}

// waitTone reads a leg's audio until n frames carried freq.
func waitTone(ctx context.Context, t *testing.T, leg telephony.Leg, freq float64, n int) {
	t.Helper()
	var f audio.Frame
	for got := 0; got < n; {
		if err := leg.ReadAudio(ctx, &f); err != nil {
			t.Fatalf("ReadAudio after %d tone frames: %v", got, err)
		}
		if audio.RMS(f[:]) > 1000 && telephonytest.ToneShare(f[:], freq) > 0.8 {
			got++
		}
	}
}

// recorder is a gateway handler that records events and plays a tone.
type recorder struct {
	events  chan telephony.Event
	playErr chan error
	tone    time.Duration
}

func newRecorder(tone time.Duration) *recorder {
	return &recorder{events: make(chan telephony.Event, 64), playErr: make(chan error, 1), tone: tone}
}

func (r *recorder) ServeCall(ctx context.Context, leg telephony.Leg) error {
	evDone := make(chan struct{})
	go func() {
		defer close(evDone)
		for ev := range leg.Events() {
			r.events <- ev
		}
	}()
	r.playErr <- leg.Play(ctx, toneSource(1000, r.tone))
	<-leg.Done()
	<-evDone
	return nil
}

// nextEvent returns the next event the gateway's handler saw.
func (r *recorder) nextEvent(t *testing.T) telephony.Event {
	t.Helper()
	select {
	case ev := <-r.events:
		return ev
	case <-time.After(testTimeout):
		t.Fatal("no event")
		return telephony.Event{}
	}
}

// rawUA is a bare sipgo endpoint for sending hand-made requests and
// receiving BYEs, bound to 127.0.0.1:0.
type rawUA struct {
	ua   *sipgo.UserAgent
	cli  *sipgo.Client
	addr netip.AddrPort
	byes chan *sip.Request
}

func newRawUA(t *testing.T) *rawUA {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("raw"), sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(levelLogger(t, slog.LevelWarn))),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(levelLogger(t, slog.LevelWarn))))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(ua, sipgo.WithServerLogger(levelLogger(t, slog.LevelWarn)))
	cli, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(levelLogger(t, slog.LevelWarn)))
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &rawUA{ua: ua, cli: cli, addr: conn.LocalAddr().(*net.UDPAddr).AddrPort(), byes: make(chan *sip.Request, 4)}
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		r.byes <- req
	})
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.ServeUDP(conn) }()
	t.Cleanup(func() {
		_ = conn.Close()
		_ = ua.Close()
		<-served
	})
	return r
}

// invite builds an INVITE to g with the given body and content type.
func (r *rawUA) invite(g *gateway, contentType string, body []byte) *sip.Request {
	var to sip.Uri
	_ = sip.ParseUri(g.uri("bot"), &to)
	req := sip.NewRequest(sip.INVITE, to)
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "raw", Host: "127.0.0.1", Port: int(r.addr.Port())}})
	if contentType != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	}
	req.SetBody(body)
	return req
}

// do sends req and returns the final response.
func (r *rawUA) do(ctx context.Context, t *testing.T, req *sip.Request) *sip.Response {
	t.Helper()
	res, err := r.cli.Do(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", req.Method, err)
	}
	return res
}

// sendRFC4733 sends one key press as telephone-event packets from the
// phone leg's RTP socket, sipp-style (first duration 0, end packet x3).
func sendRFC4733(t *testing.T, leg telephony.Leg, key rune, pt uint8) {
	t.Helper()
	m := leg.(*call).media
	code, _ := dtmf.EventForDigit(key)
	to := m.remoteAddr()
	ts := uint32(time.Now().UnixNano())
	for i, d := range []uint16{0, 160, 320, 640, 640, 640} {
		b, err := (&rtp.Packet{
			Header:  rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: uint16(i), Timestamp: ts, Marker: i == 0, SSRC: 0xD7F},
			Payload: dtmf.Payload{Event: code, End: i >= 3, Volume: 10, Duration: d}.Append(nil),
		}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.conn.WriteToUDPAddrPort(b, to); err != nil {
			t.Fatal(err)
		}
	}
}
