package stt

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"hotline/telephony/audio"
)

// fakeTranscriber records utterances and answers from a function.
type fakeTranscriber struct {
	mu     sync.Mutex
	got    [][]int16
	answer func(ctx context.Context, n int) (string, error)
	called chan int // if set, receives the call number of each call
}

func (f *fakeTranscriber) Transcribe(ctx context.Context, pcm []int16, rate int) (string, error) {
	f.mu.Lock()
	f.got = append(f.got, pcm)
	n := len(f.got)
	f.mu.Unlock()
	if f.called != nil {
		f.called <- n
	}
	if rate != 8000 {
		return "", errors.New("unexpected rate")
	}
	if f.answer == nil {
		return "utterance", nil
	}
	return f.answer(ctx, n)
}

func (f *fakeTranscriber) utterances() [][]int16 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]int16(nil), f.got...)
}

func lineNoise(d time.Duration, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 2))
	out := make([]int16, int(d.Seconds()*8000))
	for i := range out {
		out[i] = int16(30 * rng.NormFloat64()) // ≈ −61 dBFS
	}
	return out
}

// voice is a voice-like buzz (−20 dBFS) on top of line noise.
func voice(d time.Duration) []int16 {
	out := lineNoise(d, uint64(d))
	for i := range out {
		t := float64(i) / 8000
		out[i] += int16(2500 * (math.Sin(2*math.Pi*140*t) + 0.7*math.Sin(2*math.Pi*420*t) + 0.5*math.Sin(2*math.Pi*980*t)))
	}
	return out
}

func concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func newListener(t *testing.T, cfg ListenerConfig) *Listener {
	t.Helper()
	l, err := NewListener(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func feedAll(l *Listener, pcm []int16) {
	for _, f := range audio.Frames(pcm) {
		l.Feed(f)
	}
}

// next waits for the next event with a deadline.
func next(t *testing.T, l *Listener) Event {
	t.Helper()
	select {
	case ev, ok := <-l.Events():
		if !ok {
			t.Fatal("events closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return Event{}
}

func expectNoEvent(t *testing.T, l *Listener) {
	t.Helper()
	select {
	case ev := <-l.Events():
		t.Fatalf("unexpected event %+v", ev)
	default:
	}
}

func TestListenerOneUtterance(t *testing.T) {
	fake := &fakeTranscriber{answer: func(context.Context, int) (string, error) { return "tak", nil }}
	l := newListener(t, ListenerConfig{Transcriber: fake})
	feedAll(l, lineNoise(time.Second, 1))
	expectNoEvent(t, l)
	feedAll(l, voice(1200*time.Millisecond))
	if ev := next(t, l); ev.Kind != EventSpeechStart || ev.Utterance != 1 {
		t.Fatalf("first event %+v", ev)
	}
	feedAll(l, lineNoise(600*time.Millisecond, 2)) // under EndSilence
	expectNoEvent(t, l)
	feedAll(l, lineNoise(time.Second, 3))
	end := next(t, l)
	if end.Kind != EventSpeechEnd || end.Utterance != 1 {
		t.Fatalf("want speech end, got %+v", end)
	}
	tr := next(t, l)
	if tr.Kind != EventTranscript || tr.Text != "tak" || tr.Utterance != 1 {
		t.Fatalf("want transcript, got %+v", tr)
	}
	// Audio sent: 200 ms pre-roll + 1.2 s speech + ≤ 200 ms tail (+ a frame or two).
	if tr.Audio < 1350*time.Millisecond || tr.Audio > 1700*time.Millisecond {
		t.Errorf("utterance audio %v", tr.Audio)
	}
	if u := fake.utterances(); len(u) != 1 {
		t.Fatalf("%d utterances transcribed", len(u))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-l.Events(); ok {
		t.Error("events not closed after Close")
	}
	l.Feed(voice(time.Second)) // after Close: ignored, no panic
}

func TestListenerSegmentation(t *testing.T) {
	cases := []struct {
		name  string
		cfg   ListenerConfig
		pcm   []int16
		texts int // transcripts expected
		start int // SpeechStart events expected
	}{
		{"short pause stays one utterance", ListenerConfig{},
			concat(lineNoise(time.Second, 1), voice(800*time.Millisecond), lineNoise(400*time.Millisecond, 2), voice(600*time.Millisecond), lineNoise(2*time.Second, 3)), 1, 1},
		{"long pause makes two", ListenerConfig{},
			concat(lineNoise(time.Second, 1), voice(800*time.Millisecond), lineNoise(1200*time.Millisecond, 2), voice(600*time.Millisecond), lineNoise(2*time.Second, 3)), 2, 2},
		{"monologue is cut at MaxUtterance", ListenerConfig{MaxUtterance: 2 * time.Second},
			concat(lineNoise(time.Second, 1), voice(5*time.Second), lineNoise(2*time.Second, 3)), 3, 1},
		{"a click is not transcribed", ListenerConfig{},
			concat(lineNoise(time.Second, 1), voice(60*time.Millisecond), lineNoise(2*time.Second, 3)), 0, 1},
		{"noise alone", ListenerConfig{}, lineNoise(5*time.Second, 1), 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := &fakeTranscriber{}
			c.cfg.Transcriber = fake
			l := newListener(t, c.cfg)
			feedAll(l, c.pcm)
			// Wait for the expected transcripts, then close and drain.
			starts, texts := 0, 0
			count := func(ev Event) {
				switch ev.Kind {
				case EventSpeechStart:
					starts++
				case EventTranscript:
					texts++
				}
			}
			for texts < c.texts {
				count(next(t, l))
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			for ev := range l.Events() {
				count(ev)
			}
			if texts != c.texts {
				t.Errorf("%d transcripts, want %d", texts, c.texts)
			}
			if got := len(fake.utterances()); got != c.texts {
				t.Errorf("%d utterances transcribed, want %d", got, c.texts)
			}
			if starts != c.start {
				t.Errorf("%d speech starts, want %d", starts, c.start)
			}
			if c.cfg.MaxUtterance > 0 {
				for _, u := range fake.utterances() {
					if d := audio.Duration(len(u)); d > c.cfg.MaxUtterance+20*time.Millisecond {
						t.Errorf("utterance of %v exceeds the cap", d)
					}
				}
			}
		})
	}
}

func TestListenerErrorsAndBackpressure(t *testing.T) {
	block := make(chan struct{})
	fake := &fakeTranscriber{called: make(chan int, 8), answer: func(ctx context.Context, n int) (string, error) {
		if n == 1 {
			return "", errors.New("server down")
		}
		select { // later calls hang until released or cancelled
		case <-block:
			return "ok", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}}
	l := newListener(t, ListenerConfig{Transcriber: fake, Queue: 1})
	utt := concat(voice(400*time.Millisecond), lineNoise(time.Second, 9))
	feedAll(l, concat(lineNoise(time.Second, 1), utt))
	for _, want := range []EventKind{EventSpeechStart, EventSpeechEnd, EventError} {
		if ev := next(t, l); ev.Kind != want {
			t.Fatalf("got %+v, want %v", ev, want)
		} else if want == EventError && (ev.Err == nil || ev.Utterance != 1) {
			t.Fatalf("error event %+v", ev)
		}
	}
	// #2 hangs in the transcriber, #3 waits in the queue (size 1), #4 is dropped.
	feedAll(l, utt)
	for _, want := range []EventKind{EventSpeechStart, EventSpeechEnd} {
		if ev := next(t, l); ev.Kind != want {
			t.Fatalf("got %+v, want %v", ev, want)
		}
	}
	for _, want := range []int{1, 2} { // #2 is now inside the transcriber
		select {
		case n := <-fake.called:
			if n != want {
				t.Fatalf("call %d, want %d", n, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("transcriber not called")
		}
	}
	feedAll(l, utt)
	feedAll(l, utt)
	var busy bool
	for range 5 {
		if ev := next(t, l); ev.Kind == EventError && errors.Is(ev.Err, ErrBusy) && ev.Utterance == 4 {
			busy = true
		}
	}
	if !busy {
		t.Error("no ErrBusy for the dropped utterance")
	}
	close(block)
	for _, id := range []int{2, 3} {
		if ev := next(t, l); ev.Kind != EventTranscript || ev.Utterance != id || ev.Text != "ok" {
			t.Fatalf("got %+v, want transcript %d", ev, id)
		}
	}
}

func TestListenerCloseCancelsInFlight(t *testing.T) {
	started := make(chan struct{})
	fake := &fakeTranscriber{answer: func(ctx context.Context, _ int) (string, error) {
		close(started)
		<-ctx.Done() // only Close can end this
		return "", ctx.Err()
	}}
	l := newListener(t, ListenerConfig{Transcriber: fake})
	feedAll(l, concat(lineNoise(time.Second, 1), voice(500*time.Millisecond), lineNoise(time.Second, 2)))
	<-started
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for ev := range l.Events() {
		if ev.Kind == EventTranscript || ev.Kind == EventError {
			t.Errorf("event after cancellation: %+v", ev)
		}
	}
	if _, err := NewListener(context.Background(), ListenerConfig{}); err == nil {
		t.Error("nil Transcriber accepted")
	}
}

// TestListenerEndToEnd: frames in, the real Client, the fake HTTP server,
// exactly one transcript out. Uses espeak-ng speech when available.
func TestListenerEndToEnd(t *testing.T) {
	srv, uploads := fakeServer(t, replyText("Tak, poproszę."))
	client := &Client{BaseURL: srv.URL + "/v1", HTTPClient: srv.Client(), Timeout: 5 * time.Second}
	speech, source := espeakOrSynthetic(t, "Tak, poproszę.")
	l := newListener(t, ListenerConfig{Transcriber: client})
	feedAll(l, concat(lineNoise(time.Second, 1), speech, lineNoise(1500*time.Millisecond, 2)))

	var kinds []EventKind
	var text string
	for len(kinds) < 3 {
		ev := next(t, l)
		kinds = append(kinds, ev.Kind)
		if ev.Kind == EventTranscript {
			text = ev.Text
		}
		if ev.Kind == EventError {
			t.Fatalf("%s: error %v", source, ev.Err)
		}
	}
	if kinds[0] != EventSpeechStart || kinds[1] != EventSpeechEnd || kinds[2] != EventTranscript || text != "Tak, poproszę." {
		t.Fatalf("%s: events %v text %q", source, kinds, text)
	}
	u := <-uploads
	if u.rate != 16000 || u.fields["language"] != "pl" {
		t.Errorf("upload %d Hz, fields %v", u.rate, u.fields)
	}
	t.Logf("%s: %v of speech, uploaded %v at 16 kHz", source, audio.Duration(len(speech)), audio.Duration(len(u.pcm)/2))
	// The upload covers the speech (espeak adds silence at both ends).
	if d := audio.Duration(len(u.pcm) / 2); d < audio.Duration(len(speech))/2 || d > audio.Duration(len(speech))+400*time.Millisecond {
		t.Errorf("%s: uploaded %v for %v of audio", source, d, audio.Duration(len(speech)))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for ev := range l.Events() {
		t.Errorf("%s: extra event %+v", source, ev)
	}
	select {
	case u := <-uploads:
		t.Errorf("second upload of %d samples", len(u.pcm))
	default:
	}
}

// espeakOrSynthetic returns Polish speech at 8 kHz from espeak-ng, or a
// voice-like burst when espeak-ng is missing (failing under HOTLINE_E2E=1).
func espeakOrSynthetic(t *testing.T, text string) ([]int16, string) {
	t.Helper()
	bin, err := exec.LookPath("espeak-ng")
	if err != nil {
		if os.Getenv("HOTLINE_E2E") == "1" {
			t.Fatal("espeak-ng missing and HOTLINE_E2E=1")
		}
		return voice(time.Second), "synthetic"
	}
	out, err := exec.Command(bin, "-v", "pl", "--stdout", text).Output()
	if err != nil {
		t.Fatalf("espeak-ng: %v", err)
	}
	pcm, rate, err := audio.ReadWAVStream(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	pcm8, err := audio.Resample(pcm, rate, 8000)
	if err != nil {
		t.Fatal(err)
	}
	audio.Mix(pcm8, lineNoise(audio.Duration(len(pcm8)), 5))
	return pcm8, "espeak-ng"
}

func BenchmarkListenerFeed20ms(b *testing.B) {
	// Silence and speech alternating; the transcriber answers at once.
	pcm := concat(lineNoise(2*time.Second, 1), voice(2*time.Second), lineNoise(2*time.Second, 2))
	frames := audio.Frames(pcm)
	l, err := NewListener(context.Background(), ListenerConfig{Transcriber: &fakeTranscriber{}})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { // drain events
		defer close(done)
		for range l.Events() {
		}
	}()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l.Feed(frames[i%len(frames)])
	}
	b.StopTimer()
	_ = l.Close()
	<-done
}
