package sipgw

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"hotline/telephony/dtmf"
	"hotline/telephony/jitter"
	"hotline/telephony/playout"
	"hotline/telephony/telemetry"
)

// mediaConfig is what a media session needs from the server and its call.
type mediaConfig struct {
	Timeout, InitialTimeout time.Duration
	// DTX: send nothing while nothing plays (Config.SilenceSuppression).
	DTX bool
	// OnDigit receives RFC 4733 and in-band key presses (from the receive
	// goroutine; it must not block).
	OnDigit func(dtmf.Event)
	// OnTimeout is called once, from the receive goroutine, when RTP
	// stopped for the timeout; it must not wait for the media to stop.
	OnTimeout func()
	// OnAudioIn (optional) gets each received audio packet's decoded
	// samples where the jitter buffer placed them (t from the session
	// start; telephone-event and CN never get here); OnAudioOut
	// (optional) each frame sent, at its tick. They are called from the
	// receive and send goroutines, must not keep pcm, and must be quick
	// (the call recorder, recording.go).
	OnAudioIn, OnAudioOut func(t time.Duration, pcm []int16)
	// Metrics (optional) counts packets, send pacing, the DTMF → reply
	// latency and, at the end, loss and jitter.
	Metrics *telemetry.Leg
}

// media is one call's RTP session on its own UDP socket: a receive loop
// (symmetric-RTP latching, payload-type demux, jitter buffer, DTMF, media
// watchdog) and a paced send loop. It knows nothing about SIP.
type media struct {
	cfg  mediaConfig
	log  *slog.Logger
	conn *net.UDPConn
	port int
	pool *portPool
	// epoch is the media clock's zero: frame 0 of what ReadAudio returns
	// and tick 0 of what we send.
	epoch time.Time

	params atomic.Pointer[mediaParams]
	// remote is where we send: the SDP address until the first packet,
	// then the packet's source (RFC 4961 symmetric RTP).
	remote atomic.Pointer[netip.AddrPort]
	// relatch asks the receive loop to latch afresh (a re-INVITE moved
	// the remote media).
	relatch atomic.Bool

	jb *jitter.Buffer
	// out is what Play queues for the send loop; it also times the reply
	// to a key press (Metrics.DTMFReply).
	out *playout.Queue

	started   atomic.Bool
	stopping  atomic.Bool
	stopSend  chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once

	// Counters for the call's final log line.
	pktsIn, pktsOut, ignored, foreign atomic.Uint64
}

// digitDelivered notes a key press handed to the handler, so that the
// send loop can time the reply.
func (m *media) digitDelivered(at time.Time) {
	if m.cfg.Metrics != nil {
		m.out.KeyPressed(at)
	}
}

// replied times the reply to a pending key press: called by the send
// loop with each Play frame it sends.
func (m *media) replied(gen uint64, now time.Time) {
	if d, ok := m.out.Replied(gen, now); ok {
		m.cfg.Metrics.DTMFReply(d)
	}
}

// openMedia binds the call's RTP socket; nothing runs until run.
func openMedia(pool *portPool, cfg mediaConfig, log *slog.Logger) (*media, error) {
	conn, port, err := pool.open()
	if err != nil {
		return nil, err
	}
	return &media{
		cfg:      cfg,
		log:      log,
		conn:     conn,
		port:     port,
		pool:     pool,
		out:      playout.New(),
		stopSend: make(chan struct{}),
	}, nil
}

// run begins receiving and sending with the negotiated parameters.
func (m *media) run(p mediaParams) {
	if !m.started.CompareAndSwap(false, true) {
		return
	}
	m.epoch = time.Now()
	m.jb = jitter.New(m.epoch)
	m.setParams(p)
	m.wg.Add(2)
	go m.recvLoop()
	go m.sendLoop()
}

// setParams installs (re-)negotiated parameters. A new remote address
// from a re-INVITE restarts latching.
func (m *media) setParams(p mediaParams) {
	old := m.params.Swap(&p)
	if old == nil || old.Remote != p.Remote {
		r := p.Remote
		m.remote.Store(&r)
		if old != nil {
			m.relatch.Store(true)
		}
	}
}

// remoteAddr is where RTP goes now (zero if unknown yet).
func (m *media) remoteAddr() netip.AddrPort {
	if r := m.remote.Load(); r != nil {
		return *r
	}
	return netip.AddrPort{}
}

// close stops both loops, then closes the socket and returns the port:
// the "stop media, close socket" steps of a call's teardown. Idempotent.
func (m *media) close() {
	m.closeOnce.Do(func() {
		if m.started.Load() {
			m.stopping.Store(true)
			// Wake the receive loop: it checks stopping after arming its
			// own deadline, so this cannot be lost.
			_ = m.conn.SetReadDeadline(time.Now())
			close(m.stopSend)
			m.wg.Wait()
		}
		if err := m.conn.Close(); err != nil {
			m.log.Debug("rtp socket close", "error", err)
		}
		m.pool.release(m.port)
	})
}

// stats summarises the session for the call's last log line.
func (m *media) stats() []any {
	attrs := []any{
		"rtp_in", m.pktsIn.Load(), "rtp_out", m.pktsOut.Load(),
		"rtp_ignored", m.ignored.Load(), "rtp_foreign", m.foreign.Load(),
	}
	if m.jb != nil {
		st := m.jb.Stats()
		attrs = append(attrs, "rtp_late", st.Late, "rtp_resyncs", st.Resyncs)
	}
	return attrs
}
