package sipgw

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/telephonytest"
)

// These tests drive the gateway with a real sipp (apt-get install
// sip-tester). They skip when sipp is missing, unless HOTLINE_E2E=1.

// sippBin returns the sipp binary, or skips the test without it.
func sippBin(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("HOTLINE_E2E") == "1" {
			t.Fatal("sipp not installed (HOTLINE_E2E=1)")
		}
		t.Skip("sipp not installed")
	}
	return bin
}

// sippCmd prepares a one-call sipp run of scenario with its logs in a
// temporary directory; report prints them when the run failed.
func sippCmd(ctx context.Context, t *testing.T, scenario string, args ...string) (cmd *exec.Cmd, report func(error, []byte)) {
	t.Helper()
	bin := sippBin(t)
	dir := t.TempDir()
	sf, err := filepath.Abs(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	args = append(args, "-sf", sf,
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t)),
		"-m", "1", "-l", "1", "-nostdin", "-timeout", "25", "-timeout_error",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, "messages.log"))
	cmd = exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	report = func(err error, out []byte) {
		t.Helper()
		msgs, _ := os.ReadFile(filepath.Join(dir, "messages.log"))
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		t.Fatalf("sipp %s: %v\n--- errors:\n%s\n--- messages:\n%s\n--- output (tail):\n%s",
			scenario, err, errs, msgs, tail(out, 2000))
	}
	return cmd, report
}

// sipp runs one sipp UAC call of scenario against g and fails the test
// if sipp reports a failed call.
func sipp(ctx context.Context, t *testing.T, g *gateway, scenario string, extra ...string) {
	t.Helper()
	args := append([]string{g.Addr().String(), "-s", "bot", "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t))}, extra...)
	cmd, report := sippCmd(ctx, t, scenario, args...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("sipp %s: %v after %v", scenario, cmd.ProcessState, time.Since(start).Round(time.Millisecond))
	if err != nil {
		report(err, out)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// freePort returns a port free on 127.0.0.1 right now for UDP and TCP
// (baresip listens on both), and the UDP port 2 above it, which sipp's RTP
// echo also binds.
func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		c2, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port+2))
		_ = c.Close()
		if err != nil {
			continue
		}
		_ = c2.Close()
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			_ = l.Close()
			return port
		}
	}
	t.Fatal("no free port pair")
	return 0
}

// echoCounter is a handler that plays a 1 kHz tone while counting the
// frames of it that come back (sipp -rtp_echo), and records events.
type echoCounter struct {
	*recorder
	echoed chan int
}

func (e *echoCounter) ServeCall(ctx context.Context, leg telephony.Leg) error {
	n := 0
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		var f audio.Frame
		for leg.ReadAudio(ctx, &f) == nil {
			if audio.RMS(f[:]) > 1000 && telephonytest.ToneShare(f[:], 1000) > 0.8 {
				n++
			}
		}
	}()
	err := e.recorder.ServeCall(ctx, leg)
	<-readDone
	e.echoed <- n
	return err
}

// digits collects DTMF events until the hangup event.
func (r *recorder) digits(t *testing.T) (keys string, sources []string, cause telephony.Cause) {
	t.Helper()
	for {
		ev := r.nextEvent(t)
		if ev.Kind == telephony.EventHangup {
			return keys, sources, ev.Cause
		}
		keys += string(ev.Digit)
		sources = append(sources, ev.Source)
	}
}

func TestSippRFC4733DigitsAndBotAudio(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	h := &echoCounter{recorder: newRecorder(5 * time.Second), echoed: make(chan int, 1)}
	gw := startGateway(t, Config{}, h)
	sipp(ctx, t, gw, "uac_rfc4733.xml", "-rtp_echo")

	keys, sources, cause := h.digits(t)
	if keys != "12#" {
		t.Errorf("digits %q, want \"12#\" once each", keys)
	}
	for _, s := range sources {
		if s != "rfc4733" {
			t.Errorf("digit source %s", s)
		}
	}
	if cause != telephony.CauseCallerHangup {
		t.Errorf("cause %s", cause)
	}
	// sipp echoed our tone back: it received the bot's RTP.
	select {
	case n := <-h.echoed:
		if n < 25 {
			t.Errorf("%d frames of the bot's tone came back from sipp, want ≥ 25 (≥ 0.5 s)", n)
		}
	case <-ctx.Done():
		t.Fatal("handler did not finish")
	}
}

func TestSippInfoDigits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	rec := newRecorder(time.Second)
	gw := startGateway(t, Config{}, rec)
	sipp(ctx, t, gw, "uac_info.xml")
	keys, sources, cause := rec.digits(t)
	if keys != "42*" || cause != telephony.CauseCallerHangup {
		t.Errorf("digits %q cause %s, want \"42*\" and caller hangup", keys, cause)
	}
	for _, s := range sources {
		if s != "info" {
			t.Errorf("digit source %s", s)
		}
	}
}

func TestSippCancelWhileRinging(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	gw := startGateway(t, Config{RingTime: 5 * time.Second}, newRecorder(time.Second))
	sipp(ctx, t, gw, "uac_cancel.xml")
	if end := gw.waitEnd(t); end.cause != telephony.CauseCanceled {
		t.Errorf("cause %s, want canceled", end.cause)
	}
}

func TestSippByeMidPrompt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	played := make(chan error, 1)
	gw := startGateway(t, Config{}, telephony.HandlerFunc(func(ctx context.Context, leg telephony.Leg) error {
		played <- leg.Play(ctx, toneSource(1000, 20*time.Second))
		return nil
	}))
	start := time.Now()
	sipp(ctx, t, gw, "uac_bye.xml", "-d", "800")
	select {
	case err := <-played:
		if !errors.Is(err, telephony.ErrLegClosed) {
			t.Errorf("Play = %v, want ErrLegClosed", err)
		}
	case <-ctx.Done():
		t.Fatal("the handler never played: the call was not answered and ACKed")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the 20 s prompt ran for %v despite the BYE", d)
	}
	if end := gw.waitEnd(t); end.cause != telephony.CauseCallerHangup {
		t.Errorf("cause %s", end.cause)
	}
}

func TestSippRTPStops(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	rec := newRecorder(200 * time.Millisecond)
	gw := startGateway(t, Config{MediaTimeout: time.Second, MediaTimeoutInitial: 5 * time.Second}, rec)
	sipp(ctx, t, gw, "uac_rtp_stops.xml") // succeeds only if sipp receives our BYE
	keys, _, cause := rec.digits(t)
	if keys != "7" || cause != telephony.CauseMediaTimeout {
		t.Errorf("digits %q cause %s, want \"7\" then a media timeout", keys, cause)
	}
}

func TestSippMalformedInvites(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	gw := startGateway(t, Config{}, newRecorder(time.Second))
	for _, sf := range []string{"uac_reject_nosdp.xml", "uac_reject_badsdp.xml", "uac_reject_g729.xml", "uac_reject_text.xml"} {
		sipp(ctx, t, gw, sf) // each expects its 488 or 415
	}
	// Still serving: a good call goes through.
	sipp(ctx, t, gw, "uac_bye.xml", "-d", "100")
	if end := gw.waitEnd(t); end.cause != telephony.CauseCallerHangup {
		t.Errorf("cause %s", end.cause)
	}
}

func TestSippOverTCP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	rec := newRecorder(time.Second)
	gw := startGateway(t, Config{}, rec)
	sipp(ctx, t, gw, "uac_info.xml", "-t", "t1")
	keys, _, cause := rec.digits(t)
	if keys != "42*" || cause != telephony.CauseCallerHangup {
		t.Errorf("over TCP: digits %q cause %s", keys, cause)
	}
	// And the other way round: the bot hangs up over TCP (media timeout).
	gw2 := startGateway(t, Config{MediaTimeout: time.Second, MediaTimeoutInitial: 5 * time.Second}, newRecorder(0))
	sipp(ctx, t, gw2, "uac_rtp_stops.xml", "-t", "t1")
	if end := gw2.waitEnd(t); end.cause != telephony.CauseMediaTimeout || end.info.CallID == "" {
		t.Errorf("over TCP: end %+v", end)
	}
}

// TestSippDialDigestAuth: our outbound INVITE (UAC) meets a sipp callee
// that demands digest auth and checks the response: the right password
// gets the call answered, a wrong one a 403.
func TestSippDialDigestAuth(t *testing.T) {
	for _, tc := range []struct {
		password string
		code     int // 0: answered
	}{{"s3cret", 0}, {"wrong", 403}} {
		t.Run(tc.password, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			port := freePort(t)
			cmd, report := sippCmd(ctx, t, "uas_digest.xml", "-i", "127.0.0.1", "-p", strconv.Itoa(port))
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			waitBound(ctx, t, port, exited)

			phone := startPhone(t, Config{AuthUsername: "bot", AuthPassword: tc.password})
			leg, err := phone.Dial(ctx, "sip:callee@127.0.0.1:"+strconv.Itoa(port), map[string]string{"X-Hotline-Case": "masked"})
			if tc.code != 0 {
				var de *DialError
				if !errors.As(err, &de) || de.StatusCode != tc.code || !errors.Is(err, ErrRejected) {
					t.Fatalf("Dial = %v, want %d", err, tc.code)
				}
				cancel() // stop sipp, which waits for an ACK it will not count
				<-exited
				return
			}
			if err != nil {
				t.Fatalf("Dial through digest auth: %v", err)
			}
			if info := leg.Info(); info.Codec != "PCMU" || info.Direction != telephony.Outbound {
				t.Errorf("leg %+v", info)
			}
			if err := leg.Hangup(ctx, telephony.CauseBotHangup); err != nil {
				t.Fatal(err)
			}
			if err := <-exited; err != nil {
				report(err, out.Bytes())
			}
			if end := phone.waitEnd(t); end.cause != telephony.CauseBotHangup {
				t.Errorf("cause %s", end.cause)
			}
		})
	}
}

// waitBound polls until something listens on the UDP port (sipp is up),
// failing if sipp exits first or ctx ends.
func waitBound(ctx context.Context, t *testing.T, port int, exited <-chan error) {
	t.Helper()
	for !udpTaken(port) {
		select {
		case err := <-exited:
			t.Fatalf("sipp exited early: %v", err)
		case <-ctx.Done():
			t.Fatal("sipp did not start")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// udpTaken reports whether something holds the loopback UDP port.
func udpTaken(port int) bool {
	c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return true
	}
	_ = c.Close()
	return false
}

// syncBuffer is a bytes.Buffer a child process writes to while the test
// may read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
