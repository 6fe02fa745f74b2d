package sipgw

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/telephonytest"
)

// baresipBin returns the baresip binary, or skips the test without it
// (fails under HOTLINE_E2E=1).
func baresipBin(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		if os.Getenv("HOTLINE_E2E") == "1" {
			t.Fatal("baresip not installed (HOTLINE_E2E=1)")
		}
		t.Skip("baresip not installed (apt-get install baresip)")
	}
	return bin
}

// baresipConsultant is a real baresip phone that answers every call at
// once and sends a tone; sndfile dumps what it received.
type baresipConsultant struct {
	uri     string
	dumpDir string
	out     *syncBuffer
}

// startBaresip runs baresip (recipe: reference/telephony.md §4) until the
// test ends; it sends a freq tone for the length of the call. A baresip
// that exits before it listens (its port taken in the meantime by another
// test process) is started again on another port, up to three times.
func startBaresip(ctx context.Context, t *testing.T, freq float64) *baresipConsultant {
	t.Helper()
	bin := baresipBin(t)
	dir := t.TempDir()
	// aufile hangs up when its file ends: 60 s outlasts the test.
	src := filepath.Join(dir, "tone.wav")
	if err := os.WriteFile(src, audio.EncodeWAV(audio.Tone(freq, -6, 60*audio.Rate, audio.Rate), audio.Rate, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		b, err := runBaresip(ctx, t, bin, filepath.Join(dir, strconv.Itoa(attempt)), src)
		if err == nil {
			return b
		}
		if attempt == 3 || ctx.Err() != nil {
			t.Fatalf("baresip did not start: %v", err)
		}
		t.Logf("baresip attempt %d: %v; trying another port", attempt, err)
	}
}

// runBaresip starts one baresip in dir and waits until it listens; an
// error (with baresip's output) means it exited first.
func runBaresip(ctx context.Context, t *testing.T, bin, dir, src string) (*baresipConsultant, error) {
	t.Helper()
	conf, dump := filepath.Join(dir, "conf"), filepath.Join(dir, "dump")
	for _, d := range []string{conf, dump} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	config := fmt.Sprintf(`sip_listen 127.0.0.1:%d
net_interface 127.0.0.1
audio_source aufile,%s
audio_player aufile,%s
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module sndfile.so
module_tmp account.so
module_app menu.so
snd_path %s
`, port, src, filepath.Join(dir, "play.wav"), dump)
	files := map[string]string{
		"config":   config,
		"accounts": "<sip:konsultant@127.0.0.1>;regint=0;audio_codecs=PCMU;answermode=auto\n",
		"contacts": "",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(conf, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(ctx, bin, "-f", conf)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// SIGTERM (by pid), so baresip ends its calls and closes its files.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// exited is closed (never consumed) once baresip is gone, so that
	// both the start-up wait and the cleanup can watch it.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("baresip output:\n%s", out.String())
		}
	})
	for {
		if udpTaken(port) {
			return &baresipConsultant{uri: "sip:konsultant@127.0.0.1:" + strconv.Itoa(port), dumpDir: dump, out: out}, nil
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("exited (%v) before listening on %d:\n%s", waitErr, port, out.String())
		case <-ctx.Done():
			t.Fatal("baresip did not start")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// received polls (baresip closes the dump when its call ends) for the
// WAV of what baresip received and returns its samples.
func (b *baresipConsultant) received(ctx context.Context, t *testing.T) []int16 {
	t.Helper()
	for {
		files, _ := filepath.Glob(filepath.Join(b.dumpDir, "dump-*-dec.wav"))
		if len(files) == 1 {
			if f, err := os.Open(files[0]); err == nil {
				pcm, rate, err := audio.ReadWAV(f)
				_ = f.Close()
				if err == nil && rate == audio.Rate && len(pcm) >= audio.Rate {
					return pcm
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no complete dump-*-dec.wav from baresip (found %v)", files)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// toneFrames counts the 20 ms frames of pcm that are a tone of freq.
func toneFrames(pcm []int16, freq float64) int {
	n := 0
	for _, fr := range audio.Frames(pcm) {
		f := audio.Frame(fr)
		if audio.RMS(f[:]) > 1000 && telephonytest.ToneShare(f[:], freq) > 0.8 {
			n++
		}
	}
	return n
}

// TestBridgeToBaresip: a real baresip is the consultant. The caller's
// 1 kHz tone, bridged by the bot, is in baresip's dump of what it
// received, and baresip's tone reaches the caller; the caller's hangup
// ends baresip's call too.
func TestBridgeToBaresip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	bs := startBaresip(ctx, t, consultantFreq)
	r := startBridgeRig(t, Config{TransferTarget: bs.uri}, Config{},
		telephony.TransferRequest{Headers: map[string]string{"X-Hotline-Case": "masked"}})
	leg, err := r.phone.Dial(ctx, r.bot.uri("bot"), nil)
	if err != nil {
		t.Fatal(err)
	}
	waitTone(ctx, t, leg, consultantFreq, 25) // baresip answered and is bridged
	if err := leg.Play(ctx, toneSource(callerFreq, 2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := leg.Hangup(ctx, telephony.CauseBotHangup); err != nil {
		t.Fatal(err)
	}
	if res := r.result(t); res.err != nil {
		t.Errorf("Transfer = %v, want nil", res.err)
	}
	for range 2 {
		if end := r.bot.waitEnd(t); end.cause != telephony.CauseTransferred {
			t.Errorf("bot leg %s ended %s, want transferred", end.info.Direction, end.cause)
		}
	}
	pcm := bs.received(ctx, t) // complete once our BYE ended baresip's call
	n := toneFrames(pcm, callerFreq)
	t.Logf("baresip received %.2f s, %d frames of them the caller's tone", float64(len(pcm))/audio.Rate, n)
	if n < 50 {
		t.Errorf("baresip received %d frames (of %d) of the caller's 1 kHz tone, want ≥ 50 (1 s of 2 s)",
			n, len(pcm)/audio.FrameSamples)
	}
}
