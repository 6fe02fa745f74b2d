package sipgw

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"hotline/telephony/audio"
	"hotline/telephony/dtmf"
	"hotline/telephony/playout"
)

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testWriter sends log lines to t.Log (lines after the test are dropped).
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	defer func() { _ = recover() }() // a log line racing the end of the test
	w.t.Helper()
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

// peer is the far end of an RTP session: a plain UDP socket.
type peer struct {
	t    *testing.T
	conn *net.UDPConn
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &peer{t: t, conn: conn}
}

func (p *peer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// recv reads one RTP packet (with its arrival time) or fails after d.
func (p *peer) recv(d time.Duration) (rtp.Packet, time.Time) {
	p.t.Helper()
	buf := make([]byte, 1500)
	_ = p.conn.SetReadDeadline(time.Now().Add(d))
	n, err := p.conn.Read(buf)
	if err != nil {
		p.t.Fatalf("peer: no RTP: %v", err)
	}
	var pkt rtp.Packet
	if err := pkt.Unmarshal(buf[:n]); err != nil {
		p.t.Fatalf("peer: bad RTP: %v", err)
	}
	return pkt, time.Now()
}

// send sends one RTP packet to to.
func (p *peer) send(to netip.AddrPort, h rtp.Header, payload []byte) {
	p.t.Helper()
	h.Version = 2
	b, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.conn.WriteToUDPAddrPort(b, to); err != nil {
		p.t.Fatal(err)
	}
}

// testMedia starts a media session on loopback whose SDP points at sdpRemote.
type testMedia struct {
	*media
	digits   chan dtmf.Event
	timedOut chan struct{}
}

func newTestMedia(t *testing.T, cfg mediaConfig, p mediaParams) *testMedia {
	t.Helper()
	tm := &testMedia{digits: make(chan dtmf.Event, 16), timedOut: make(chan struct{})}
	var once sync.Once
	if cfg.Timeout == 0 {
		cfg.Timeout, cfg.InitialTimeout = time.Minute, time.Minute
	}
	cfg.OnDigit = func(ev dtmf.Event) { tm.digits <- ev }
	cfg.OnTimeout = func() { once.Do(func() { close(tm.timedOut) }) }
	pool := newPortPool(netip.MustParseAddr("127.0.0.1"), 30000, 39998)
	m, err := openMedia(pool, cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.close)
	m.run(p)
	tm.media = m
	return tm
}

func (m *testMedia) local() netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(m.port))
}

func pcmuParams(remote netip.AddrPort) mediaParams {
	return mediaParams{
		Codec: codec{codecPCMU, 0}, Audio: []codec{{codecPCMU, 0}, {codecPCMA, 8}},
		DTMF: true, DTMFPT: 96, Remote: remote, Direction: "sendrecv",
	}
}

// frames is a FrameSource of n frames of constant value v.
type frames struct {
	n int
	v int16
}

func (s *frames) ReadFrame(f *audio.Frame) error {
	if s.n == 0 {
		return io.EOF
	}
	s.n--
	for i := range f {
		f[i] = s.v
	}
	return nil
}

func TestSendPacingMarkerAndTimestamps(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := newPeer(t)
	m := newTestMedia(t, mediaConfig{}, pcmuParams(p.addr()))

	// Continuous mode: silence flows before anything plays.
	first, at0 := p.recv(time.Second)
	if !first.Marker || first.PayloadType != 0 || len(first.Payload) != 160 || first.Payload[0] != 0xFF {
		t.Fatalf("first packet: M=%v PT=%d len=%d byte0=%#x; want M=1 PCMU 160 bytes of µ-law silence",
			first.Marker, first.PayloadType, len(first.Payload), first.Payload[0])
	}
	const n = 25
	played := make(chan error, 1)
	go func() { played <- m.play(ctx, nil, &frames{n: n, v: 8000}) }()

	prev, last := first, at0
	var voiced int
	for voiced < n {
		pkt, at := p.recv(time.Second)
		if pkt.Marker {
			t.Fatalf("marker set mid-stream (seq %d): no silence suppression means one talkspurt", pkt.SequenceNumber)
		}
		if pkt.SequenceNumber != prev.SequenceNumber+1 || pkt.Timestamp != prev.Timestamp+160 {
			t.Fatalf("seq %d→%d ts %d→%d; want +1 and +160", prev.SequenceNumber, pkt.SequenceNumber, prev.Timestamp, pkt.Timestamp)
		}
		if pkt.Payload[0] != audio.LinearToUlaw(8000) {
			if voiced > 0 {
				t.Fatalf("silence inside the prompt after %d frames", voiced)
			}
		} else {
			voiced++
		}
		if gap := at.Sub(last); gap > 80*time.Millisecond {
			t.Errorf("packet gap %v", gap)
		}
		prev, last = pkt, at
	}
	if err := <-played; err != nil {
		t.Fatalf("play: %v", err)
	}
	// Pacing: 20 ms per packet on average from the first packet (the
	// stream's epoch), so count against the timestamps we received.
	elapsed := last.Sub(at0)
	ticks := time.Duration(prev.Timestamp-first.Timestamp) / 160 * audio.FrameDuration
	if d := elapsed - ticks; d < -15*time.Millisecond || d > 30*time.Millisecond {
		t.Errorf("%v of timestamps arrived over %v: not paced at 20 ms", ticks, elapsed)
	}
}

func TestSendDTXMarksTalkspurtsAndJumpsTimestamps(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := newPeer(t)
	m := newTestMedia(t, mediaConfig{DTX: true}, pcmuParams(p.addr()))

	if err := m.play(ctx, nil, &frames{n: 3, v: 1000}); err != nil {
		t.Fatal(err)
	}
	var spurt1 []rtp.Packet
	for range 3 {
		pkt, _ := p.recv(time.Second)
		spurt1 = append(spurt1, pkt)
	}
	pause := time.NewTimer(200 * time.Millisecond) // a real pause in the talk
	<-pause.C
	if err := m.play(ctx, nil, &frames{n: 2, v: 1000}); err != nil {
		t.Fatal(err)
	}
	s2a, _ := p.recv(time.Second)
	s2b, _ := p.recv(time.Second)
	if !spurt1[0].Marker || spurt1[1].Marker || spurt1[2].Marker || !s2a.Marker || s2b.Marker {
		t.Errorf("markers %v %v %v | %v %v; want only talkspurt starts", spurt1[0].Marker, spurt1[1].Marker,
			spurt1[2].Marker, s2a.Marker, s2b.Marker)
	}
	if s2a.SequenceNumber != spurt1[2].SequenceNumber+1 {
		t.Errorf("sequence must not jump: %d → %d", spurt1[2].SequenceNumber, s2a.SequenceNumber)
	}
	// The timestamp jumps by the silent time (RFC 3550 §5.1): ≥ 200 ms.
	if jump := s2a.Timestamp - spurt1[2].Timestamp; jump < 10*160 || jump%160 != 0 {
		t.Errorf("timestamp jump %d across a 200 ms pause; want ≥ 1600 and on the 160 grid", jump)
	}
	// Nothing is sent while idle.
	_ = p.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := p.conn.Read(make([]byte, 1500)); err == nil {
		t.Errorf("DTX sent a %d-byte packet while idle", n)
	}
}

func TestPlayBargeInStopsAtOnce(t *testing.T) {
	p := newPeer(t)
	m := newTestMedia(t, mediaConfig{}, pcmuParams(p.addr()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.play(ctx, nil, &frames{n: 500, v: 8000}) }()
	for { // wait for the prompt to be on the wire
		if pkt, _ := p.recv(time.Second); pkt.Payload[0] == audio.LinearToUlaw(8000) {
			break
		}
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("play after cancel = %v", err)
	}
	// At most the queue's worth of prompt after the barge-in.
	voiced := 0
	for range 10 {
		if pkt, _ := p.recv(time.Second); pkt.Payload[0] == audio.LinearToUlaw(8000) {
			voiced++
		}
	}
	if voiced > playout.Frames+1 {
		t.Errorf("%d prompt frames sent after barge-in", voiced)
	}
}

func TestLatchingIsSymmetricAndIgnoresStrangers(t *testing.T) {
	sdpTarget := newPeer(t) // what the SDP says: nobody sends from here
	caller := newPeer(t)    // the real source (behind NAT)
	stranger := newPeer(t)
	m := newTestMedia(t, mediaConfig{}, pcmuParams(sdpTarget.addr()))

	if pkt, _ := sdpTarget.recv(time.Second); pkt.PayloadType != 0 {
		t.Fatal("before latching we send to the SDP address")
	}
	caller.send(m.local(), rtp.Header{PayloadType: 0, SequenceNumber: 1, Timestamp: 160, SSRC: 1}, make([]byte, 160))
	caller.recv(time.Second) // after the first packet we send to its source
	stranger.send(m.local(), rtp.Header{PayloadType: 0, SequenceNumber: 9, Timestamp: 9, SSRC: 9}, make([]byte, 160))
	caller.send(m.local(), rtp.Header{PayloadType: 0, SequenceNumber: 2, Timestamp: 320, SSRC: 1}, make([]byte, 160))
	for range 5 {
		caller.recv(time.Second) // still ours
	}
	if got := m.remoteAddr(); got != caller.addr() {
		t.Fatalf("latched to %v, want %v", got, caller.addr())
	}
	if m.foreign.Load() != 1 {
		t.Errorf("foreign packets = %d, want 1", m.foreign.Load())
	}
}

func TestMediaTimeout(t *testing.T) {
	t.Run("no packet at all", func(t *testing.T) {
		p := newPeer(t)
		m := newTestMedia(t, mediaConfig{Timeout: time.Hour, InitialTimeout: 150 * time.Millisecond}, pcmuParams(p.addr()))
		select {
		case <-m.timedOut:
		case <-time.After(5 * time.Second):
			t.Fatal("initial media timeout did not fire")
		}
	})
	t.Run("stream stops", func(t *testing.T) {
		p := newPeer(t)
		m := newTestMedia(t, mediaConfig{Timeout: 200 * time.Millisecond, InitialTimeout: time.Hour}, pcmuParams(p.addr()))
		start := time.Now()
		for i := range 10 {
			p.send(m.local(), rtp.Header{PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: 3}, make([]byte, 160))
			p.recv(time.Second) // paces us at 20 ms
		}
		select {
		case <-m.timedOut:
			if d := time.Since(start); d < 300*time.Millisecond {
				t.Errorf("timed out after %v, while packets flowed", d)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("media timeout did not fire")
		}
	})
}

func TestReceiveDTMFAndAudio(t *testing.T) {
	p := newPeer(t)
	m := newTestMedia(t, mediaConfig{}, pcmuParams(p.addr()))
	to := m.local()

	// RFC 4733 at PT 96, sipp-style: first packet duration 0, end x3.
	ts := uint32(48000)
	for i, d := range []uint16{0, 160, 320, 480, 480, 480} {
		pl := dtmf.Payload{Event: 5, End: i >= 3, Volume: 10, Duration: d}.Append(nil)
		p.send(to, rtp.Header{PayloadType: 96, Marker: i == 0, SequenceNumber: uint16(100 + i), Timestamp: ts, SSRC: 77}, pl)
	}
	select {
	case ev := <-m.digits:
		if ev.Digit != '5' || ev.Source != dtmf.SourceRFC4733 {
			t.Fatalf("digit %q from %v", ev.Digit, ev.Source)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("RFC 4733 digit not decoded")
	}

	// A reader listens from here on (the ring is the reader's), as a
	// handler's ears do: the in-band tone below must reach it too.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	heard := make(chan error, 1)
	go func() {
		var f audio.Frame
		for {
			if err := m.jb.Read(ctx, nil, &f); err != nil {
				heard <- err
				return
			}
			if audio.RMS(f[:]) > 1000 {
				heard <- nil
				return
			}
		}
	}()
	for !m.jb.Listening() {
		select {
		case <-ctx.Done():
			t.Fatal("the reader never started")
		case <-time.After(time.Millisecond):
		}
	}

	// In-band: '8' is 852 + 1336 Hz, 100 ms of PCMA (the other law the
	// remote listed), then silence.
	lo, hi := audio.Tone(852, -10, 800, 8000), audio.Tone(1336, -10, 800, 8000)
	audio.Mix(lo, hi)
	tone := append(lo, make([]int16, 1600)...)
	for i, f := range audio.Frames(tone) {
		p.send(to, rtp.Header{PayloadType: 8, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: 78},
			audio.EncodeAlaw(nil, f))
	}
	select {
	case ev := <-m.digits:
		if ev.Digit != '8' || ev.Source != dtmf.SourceInBand {
			t.Fatalf("digit %q from %v", ev.Digit, ev.Source)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("in-band digit not detected")
	}
	// The tone reached the reader too.
	if err := <-heard; err != nil {
		t.Fatalf("no audio frames: %v", err)
	}
	if m.ignored.Load() != 0 {
		t.Errorf("ignored %d packets of negotiated types", m.ignored.Load())
	}
	p.send(to, rtp.Header{PayloadType: 18, SequenceNumber: 500, Timestamp: 1, SSRC: 78}, make([]byte, 20))
	for deadline := time.Now().Add(3 * time.Second); m.ignored.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("a G729 packet was not counted as ignored")
		}
		p.recv(time.Second) // wait a tick
	}
}

func TestMediaTimeoutPausedOnHold(t *testing.T) {
	p := newPeer(t)
	held := pcmuParams(p.addr())
	held.Direction = "inactive"
	m := newTestMedia(t, mediaConfig{Timeout: 100 * time.Millisecond, InitialTimeout: 100 * time.Millisecond}, held)
	for range 20 { // 400 ms of ticks: four timeouts' worth
		p.recv(time.Second)
	}
	select {
	case <-m.timedOut:
		t.Fatal("media timeout fired while the remote holds the call")
	default:
	}
	resumed := held
	resumed.Direction = "sendrecv"
	m.setParams(resumed)
	select {
	case <-m.timedOut:
	case <-time.After(5 * time.Second):
		t.Fatal("media timeout did not fire after the hold ended")
	}
}
