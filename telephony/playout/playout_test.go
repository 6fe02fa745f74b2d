package playout

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"go.uber.org/goleak"

	"hotline/telephony"
	"hotline/telephony/audio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// frames is a FrameSource of n frames of v, then err (nil: io.EOF).
type frames struct {
	n   int
	v   int16
	err error
}

func (s *frames) ReadFrame(f *audio.Frame) error {
	if s.n == 0 {
		if s.err != nil {
			return s.err
		}
		return io.EOF
	}
	s.n--
	for i := range f {
		f[i] = s.v
	}
	return nil
}

// drain is a sender: it takes frames until stop, reporting each value.
func drain(q *Queue, stop <-chan struct{}, got chan<- int16) {
	var f audio.Frame
	for {
		if _, ok := q.Wait(stop, &f); !ok {
			return
		}
		got <- f[0]
	}
}

func TestPlayDeliversEveryFrameAndWaitsForTheLast(t *testing.T) {
	q := New()
	stop := make(chan struct{})
	got := make(chan int16, 16)
	done := make(chan struct{})
	go func() { defer close(done); drain(q, stop, got) }()
	if err := q.Play(context.Background(), nil, &frames{n: 5, v: 3}); err != nil {
		t.Fatal(err)
	}
	// Play returned after the flush marker behind the last frame: all
	// five are out.
	if len(got) != 5 {
		t.Errorf("%d frames sent when Play returned, want 5", len(got))
	}
	close(stop)
	<-done
}

func TestPlayErrors(t *testing.T) {
	boom := errors.New("boom")
	ended := make(chan struct{})
	close(ended)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		ended <-chan struct{}
		src   *frames
		want  []error
	}{
		{"source fails", context.Background(), nil, &frames{err: boom}, []error{ErrSource, boom}},
		{"leg ended", context.Background(), ended, &frames{n: 10}, []error{telephony.ErrLegClosed}},
		{"ctx cancelled", cancelled, nil, &frames{n: 10}, []error{context.Canceled}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := New()
			err := q.Play(tc.ctx, tc.ended, tc.src)
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("Play = %v, want %v", err, w)
				}
			}
			// Nothing of the failed Play is left to send.
			var f audio.Frame
			if _, ok := q.Next(&f); ok {
				t.Error("a frame of the failed Play is still queued")
			}
		})
	}
}

// TestBargeInDropsQueuedFrames: frames queued by a Play that is cancelled
// are not sent, and the next Play's frames are.
func TestBargeInDropsQueuedFrames(t *testing.T) {
	q := New()
	ctx, cancel := context.WithCancel(context.Background())
	played := make(chan error, 1)
	go func() { played <- q.Play(ctx, nil, &frames{n: 100, v: 1}) }()
	for len(q.q) < Frames { // the queue fills: Play blocks
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-played; err != context.Canceled {
		t.Fatalf("Play after cancel = %v", err)
	}
	var f audio.Frame
	if _, ok := q.Next(&f); ok {
		t.Fatal("a frame of the cancelled Play was handed out")
	}
	go func() { played <- q.Play(context.Background(), nil, &frames{n: 1, v: 2}) }()
	if _, ok := q.Wait(nil, &f); !ok || f[0] != 2 {
		t.Fatalf("next Play's frame = %d", f[0])
	}
	for { // the sender ticks on: it completes the flush marker
		select {
		case err := <-played:
			if err != nil {
				t.Fatal(err)
			}
			return
		default:
		}
		if _, ok := q.Next(&f); ok {
			t.Fatal("a frame after the last")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRepliedTimesTheNextPlayOnce(t *testing.T) {
	q := New()
	t0 := time.Unix(1000, 0)
	stop := make(chan struct{})
	got := make(chan int16, 16)
	done := make(chan struct{})
	go func() { defer close(done); drain(q, stop, got) }()
	if err := q.Play(context.Background(), nil, &frames{n: 1}); err != nil {
		t.Fatal(err)
	}
	old := q.gen.Load()
	q.KeyPressed(t0)
	if _, ok := q.Replied(old, t0.Add(time.Second)); ok {
		t.Error("a frame of the Play playing at the key press counted as the reply")
	}
	if err := q.Play(context.Background(), nil, &frames{n: 1}); err != nil {
		t.Fatal(err)
	}
	if d, ok := q.Replied(q.gen.Load(), t0.Add(80*time.Millisecond)); !ok || d != 80*time.Millisecond {
		t.Errorf("Replied = %v, %v; want 80ms", d, ok)
	}
	if _, ok := q.Replied(q.gen.Load(), t0.Add(100*time.Millisecond)); ok {
		t.Error("one key press timed twice")
	}
	close(stop)
	<-done
}

func TestPacer(t *testing.T) {
	// A pacer whose epoch is a second ago is far behind: it skips to the
	// tick playing now instead of bursting 50 ticks.
	p := NewPacer(time.Now().Add(-time.Second))
	defer p.Stop()
	if !p.Wait(nil) {
		t.Fatal("Wait without stop failed")
	}
	if n := p.Tick(); n < 49 || n > 60 {
		t.Errorf("after a 1 s lag the tick is %d, want about 50", n)
	}
	// On time: the next tick is waited for, about 20 ms.
	p.Next()
	start := time.Now()
	if !p.Wait(nil) {
		t.Fatal("Wait failed")
	}
	if el := time.Since(start); el > 40*time.Millisecond {
		t.Errorf("waited %v for the next tick", el)
	}
	if p.Offset() != time.Duration(p.Tick())*audio.FrameDuration {
		t.Errorf("Offset %v for tick %d", p.Offset(), p.Tick())
	}
	// Stop ends a wait.
	p.Next()
	p.Next()
	stop := make(chan struct{})
	close(stop)
	for range 3 { // a tick may be due already
		p.Next()
	}
	if p.Wait(stop) {
		t.Error("Wait returned true with stop closed and the tick in the future")
	}
	// Resume never goes back.
	n := p.Tick()
	p.Resume()
	if p.Tick() < n {
		t.Errorf("Resume went back from %d to %d", n, p.Tick())
	}
}
