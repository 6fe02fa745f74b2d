package sipgw

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/playout"
	"hotline/telephony/recording"
	"hotline/telephony/telephonytest"
)

// toneAt plays, on leg, silence until offset at of the leg's media clock
// (the answer), then freq for d: the frame queued first goes out on the
// next 20 ms tick, so the tone starts at at to within a tick.
func toneAt(ctx context.Context, leg telephony.Leg, at time.Duration, freq float64, d time.Duration) error {
	next := time.Since(leg.(*call).media.epoch)/audio.FrameDuration + 1
	quiet := max(0, int(at/audio.FrameDuration-next)) * audio.FrameSamples
	pcm := append(make([]int16, quiet), audio.Tone(freq, -6, int(d/time.Millisecond)*8, audio.Rate)...)
	return leg.Play(ctx, pcmSource{audio.NewFrameReader(pcm)})
}

// TestRecordingStereoTimeAligned: the bot (right) plays 1 kHz from 0.5 s
// for 1 s, the caller (left) 440 Hz from 1.0 s for 1 s and RFC 4733 keys
// before and after it. The stereo WAV has each tone in its own channel at
// its offset from the answer, silence elsewhere, and no trace of the
// telephone-event packets.
func TestRecordingStereoTimeAligned(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	dir := t.TempDir()
	digits := make(chan rune, 8)
	playErr := make(chan error, 1)
	gw := startGateway(t, Config{Recording: RecordingConfig{Dir: dir}}, telephony.HandlerFunc(
		func(ctx context.Context, leg telephony.Leg) error {
			evDone := make(chan struct{})
			go func() {
				defer close(evDone)
				for ev := range leg.Events() {
					if ev.Kind == telephony.EventDTMF {
						digits <- ev.Digit
					}
				}
			}()
			playErr <- toneAt(ctx, leg, 500*time.Millisecond, 1000, time.Second)
			<-leg.Done()
			<-evDone
			return nil
		}))
	phone := startPhone(t, Config{})
	leg, err := phone.Dial(ctx, gw.uri("bot"), nil)
	if err != nil {
		t.Fatal(err)
	}
	key := func(k rune) {
		t.Helper()
		sendRFC4733(t, leg, k, ptOfferDTMF)
		select {
		case got := <-digits:
			if got != k {
				t.Fatalf("digit %c, want %c", got, k)
			}
		case <-ctx.Done():
			t.Fatalf("digit %c never arrived", k)
		}
	}
	key('1') // during the caller's silence
	if err := toneAt(ctx, leg, time.Second, 440, time.Second); err != nil {
		t.Fatal(err)
	}
	key('5') // after the caller's tone
	if err := <-playErr; err != nil {
		t.Fatalf("gateway Play: %v", err)
	}
	if err := leg.Hangup(ctx, telephony.CauseBotHangup); err != nil {
		t.Fatal(err)
	}
	end := gw.waitEnd(t) // the recording is closed before the cause is recorded
	path := end.info.Recording
	want := filepath.Join(dir, end.info.StartedAt.UTC().Format("2006/01/02"), end.info.ID+".wav")
	if path != want {
		t.Fatalf("LegInfo.Recording = %q, want %q", path, want)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("recording file: %v %v", st, err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	left, right, rate, err := audio.ReadWAVStereo(f)
	if err != nil || rate != audio.Rate {
		t.Fatalf("ReadWAVStereo: rate %d, %v", rate, err)
	}
	if d := audio.Duration(len(left)); d < 2*time.Second || d > 10*time.Second {
		t.Fatalf("recording lasts %v", d)
	}

	// No full-scale spikes: telephone-event payloads decoded as µ-law
	// would be near ±32000; the -6 dBFS tone peaks near 16400.
	if p := audio.Peak(left); p > 20000 {
		t.Errorf("left channel peaks at %d: DTMF packets recorded as audio?", p)
	}
	checkChannel(t, "left (caller)", left, 440, 1000, time.Second)
	checkChannel(t, "right (bot)", right, 1000, 440, 500*time.Millisecond)
}

// checkChannel asserts that pcm holds freq for 1 s from about at, silence
// elsewhere, and nowhere the other channel's tone.
func checkChannel(t *testing.T, name string, pcm []int16, freq, other float64, at time.Duration) {
	t.Helper()
	const slack = 60 * time.Millisecond
	onset, count := -1, 0
	for k := 0; (k+1)*audio.FrameSamples <= len(pcm); k++ {
		var f audio.Frame
		copy(f[:], pcm[k*audio.FrameSamples:])
		start := time.Duration(k) * audio.FrameDuration
		loud := audio.RMS(f[:]) > 1000
		switch {
		case loud && telephonytest.ToneShare(f[:], freq) > 0.8:
			if onset < 0 {
				onset = k
			}
			count++
		case loud && telephonytest.ToneShare(f[:], other) > 0.5:
			t.Errorf("%s: the other side's %v Hz at %v", name, other, start)
		case audio.RMS(f[:]) > 30 && (onset < 0 || k > onset+51):
			t.Errorf("%s: not silent at %v (RMS %.0f)", name, start, audio.RMS(f[:]))
		}
	}
	if onset < 0 {
		t.Fatalf("%s: no %v Hz tone", name, freq)
	}
	if got := time.Duration(onset) * audio.FrameDuration; math.Abs(float64(got-at)) > float64(slack) {
		t.Errorf("%s: %v Hz starts at %v, want %v ± %v", name, freq, got, at, slack)
	}
	if count < 48 || count > 51 {
		t.Errorf("%s: %d frames of %v Hz, want 50 (1 s)", name, count, freq)
	}
}

// TestRecordingFailureKeepsCall: an unusable recordings directory is
// logged; calls are still answered, just not recorded.
func TestRecordingFailureKeepsCall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	gw := startGateway(t, Config{Recording: RecordingConfig{Dir: notDir}}, newRecorder(200*time.Millisecond))
	phone := startPhone(t, Config{})
	leg, err := phone.Dial(ctx, gw.uri("bot"), nil)
	if err != nil {
		t.Fatal(err)
	}
	waitTone(ctx, t, leg, 1000, 5)
	if err := leg.Hangup(ctx, telephony.CauseBotHangup); err != nil {
		t.Fatal(err)
	}
	if end := gw.waitEnd(t); end.cause != telephony.CauseCallerHangup || end.info.Recording != "" {
		t.Errorf("end %+v, want a normal end and no recording", end)
	}
	if _, err := os.Stat(notDir); err != nil {
		t.Errorf("the file in the way was touched: %v", err)
	}
}

// TestRecordingJanitorPrunesAtStart: expired recordings are deleted when
// the server starts, recent ones kept.
func TestRecordingJanitorPrunesAtStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	dir := t.TempDir()
	write := func(rel string, age time.Duration) string {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		mt := time.Now().Add(-age)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old := write("2020/01/01/old.wav", 48*time.Hour)
	recent := write("2020/01/02/recent.wav", time.Hour)
	startGateway(t, Config{Recording: RecordingConfig{Dir: dir, Retention: 24 * time.Hour}}, newRecorder(time.Second))
	// The janitor runs on its own goroutine: poll, bounded by ctx, until
	// the file and then its emptied day directory are gone.
	for {
		if _, err := os.Stat(filepath.Dir(old)); errors.Is(err, os.ErrNotExist) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("expired recording not pruned at start")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if _, err := os.Stat(recent); err != nil {
		t.Errorf("recent recording removed: %v", err)
	}
}

func TestRecordingRetentionDefault(t *testing.T) {
	c, err := Config{Listen: "127.0.0.1:0", Recording: RecordingConfig{Dir: "/x"}}.withDefaults()
	if err != nil || c.Recording.Retention != DefaultRecordingRetention {
		t.Errorf("retention %v, %v", c.Recording.Retention, err)
	}
}

// TestRecordingDriftBounded: received audio whose RTP-derived offset
// strays from our clock (a remote sample clock running fast) is recorded
// near the present, so the bot's channel is never pushed out of the
// recorder's window and dropped as late.
func TestRecordingDriftBounded(t *testing.T) {
	if recvLead+playout.MaxLag >= recording.Window || recvLag >= recording.Window {
		t.Fatalf("recvLead %v, recvLag %v, playout.MaxLag %v do not fit recording.Window %v",
			recvLead, recvLag, playout.MaxLag, recording.Window)
	}
	var r callRecording
	r.start(t.TempDir(), "drift", testLogger(t))
	path := r.filePath()
	if path == "" {
		t.Fatal("not recording")
	}
	tone := audio.Tone(440, -6, audio.FrameSamples, audio.Rate)
	r.left(10*time.Second, tone) // 10 s ahead of the clock
	r.right(0, tone)             // the bot's first frame, at the present
	r.close(testLogger(t))
	r.right(0, tone) // after close: ignored
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	left, right, _, err := audio.ReadWAVStereo(f)
	if err != nil {
		t.Fatal(err)
	}
	if d := audio.Duration(len(left)); d > 5*time.Second {
		t.Fatalf("recording of %v: the early packet was placed in the future", d)
	}
	first := slices.IndexFunc(left, func(s int16) bool { return s != 0 })
	if first < 0 || audio.Duration(first) > recvLead+time.Second/4 {
		t.Errorf("left audio starts at sample %d, want within %v of the start", first, recvLead)
	}
	if audio.Peak(right[:audio.FrameSamples]) == 0 {
		t.Error("the bot's frame was dropped")
	}
}
