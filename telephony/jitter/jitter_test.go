package jitter

import (
	"context"
	"errors"
	"testing"
	"time"

	"hotline/telephony"
	"hotline/telephony/audio"
)

// frameOf returns a 20 ms frame filled with v.
func frameOf(v int16) []int16 {
	f := make([]int16, audio.FrameSamples)
	for i := range f {
		f[i] = v
	}
	return f
}

// newReader is a jitter buffer whose reader attached at its start.
func newReader(start time.Time) *Buffer {
	j := New(start)
	j.attach(start)
	return j
}

// readAt reads one frame at now, failing if none is due.
func readAt(t *testing.T, j *Buffer, now time.Time) audio.Frame {
	t.Helper()
	var f audio.Frame
	if wait, ok := j.tryRead(now, &f); !ok {
		t.Fatalf("no frame due at %v (wait %v, readIdx %d)", now.Sub(j.start), wait, j.readIdx)
	}
	return f
}

func TestJitterBufferReordersAndFillsGaps(t *testing.T) {
	t0 := time.Unix(1000, 0)
	j := newReader(t0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

	// Before any packet: silence, but only once each frame is due.
	var f audio.Frame
	if _, ok := j.tryRead(ms(10), &f); ok {
		t.Fatal("frame 0 handed out before it was due")
	}
	if got := readAt(t, j, ms(20+60)); got != (audio.Frame{}) {
		t.Fatal("frame 0 not silent")
	}
	// First packet at 41 ms anchors at frame 2 (ts 5000). Packets for
	// frames 3 and 4 arrive swapped; frame 5 is lost; frame 6 arrives.
	j.Push(ms(41), 7, 5000, frameOf(2))
	j.Push(ms(81), 7, 5000+2*160, frameOf(4))
	j.Push(ms(82), 7, 5000+160, frameOf(3))
	j.Push(ms(121), 7, 5000+4*160, frameOf(6))

	if got := readAt(t, j, ms(40+60)); got != (audio.Frame{}) { // frame 1: nothing was sent
		t.Fatalf("frame 1 = %d, want silence", got[0])
	}
	for want := int16(2); want <= 4; want++ { // complete frames: no waiting
		if got := readAt(t, j, ms(122)); got[0] != want || got[159] != want {
			t.Fatalf("frame %d holds %d..%d", want, got[0], got[159])
		}
	}
	// Frame 5 is missing: not handed out until 60 ms after its end.
	if _, ok := j.tryRead(ms(122), &f); ok {
		t.Fatal("missing frame 5 handed out early")
	}
	if got := readAt(t, j, ms(120+60)); got != (audio.Frame{}) {
		t.Fatal("lost frame 5 not silent")
	}
	if got := readAt(t, j, ms(180)); got[0] != 6 {
		t.Fatalf("frame 6 = %d", got[0])
	}
	// A packet for frame 5 arriving now is late and dropped.
	j.Push(ms(185), 7, 5000+3*160, frameOf(5))
	if late := j.Stats().Late; late != 1 {
		t.Errorf("late = %d, want 1", late)
	}
}

func TestJitterBufferSplitsOddPacketSizes(t *testing.T) {
	// 30 ms packets (240 samples, like sipp's g711a.pcap) straddle frames.
	t0 := time.Unix(1000, 0)
	j := newReader(t0)
	pkt := make([]int16, 240)
	for i := range pkt {
		pkt[i] = int16(i + 1)
	}
	j.Push(t0, 1, 0, pkt)
	j.Push(t0.Add(30*time.Millisecond), 1, 240, pkt)
	a := readAt(t, j, t0.Add(31*time.Millisecond))
	b := readAt(t, j, t0.Add(31*time.Millisecond))
	c := readAt(t, j, t0.Add(61*time.Millisecond))
	if a[0] != 1 || a[159] != 160 || b[0] != 161 || b[79] != 240 || b[80] != 1 || c[159] != 240 {
		t.Errorf("samples misplaced: a0=%d a159=%d b0=%d b79=%d b80=%d c159=%d", a[0], a[159], b[0], b[79], b[80], c[159])
	}
}

func TestJitterBufferResyncsOnNewStream(t *testing.T) {
	t0 := time.Unix(1000, 0)
	j := newReader(t0)
	j.Push(t0, 1, 1000, frameOf(1))
	if got := readAt(t, j, t0.Add(time.Millisecond)); got[0] != 1 {
		t.Fatalf("frame 0 = %d", got[0])
	}
	// The sender restarts with a timestamp 1 h away, then a new SSRC.
	j.Push(t0.Add(20*time.Millisecond), 1, 1000+8000*3600, frameOf(2))
	if got := readAt(t, j, t0.Add(21*time.Millisecond)); got[0] != 2 {
		t.Fatalf("after timestamp jump: frame = %d, want 2", got[0])
	}
	j.Push(t0.Add(40*time.Millisecond), 99, 5, frameOf(3))
	if got := readAt(t, j, t0.Add(41*time.Millisecond)); got[0] != 3 {
		t.Fatalf("after SSRC change: frame = %d, want 3", got[0])
	}
	if resyncs := j.Stats().Resyncs; resyncs != 1 {
		t.Errorf("resyncs = %d, want 1", resyncs)
	}
}

func TestJitterBufferReaderFarBehindSkipsAhead(t *testing.T) {
	t0 := time.Unix(1000, 0)
	j := newReader(t0)
	now := t0.Add(5 * time.Second)
	j.Push(now, 1, 0, frameOf(9))
	// The reader comes back after 5 s: it catches up at once through at
	// most one ring of frames, not 5 s of stale silence.
	for n := 1; ; n++ {
		if got := readAt(t, j, now.Add(Delay+audio.FrameDuration)); got[0] == 9 {
			break
		}
		if n > Frames {
			t.Fatalf("still behind after %d frames", n)
		}
	}
}

func TestJitterBufferReadWakesAndCloses(t *testing.T) {
	// The clock starts in an hour, so nothing is due by time: only a push
	// can wake the reader.
	j := newReader(time.Now().Add(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := make(chan error, 1)
	var f audio.Frame
	go func() { got <- j.Read(ctx, nil, &f) }()
	j.Push(time.Now(), 1, 0, frameOf(5))
	if err := <-got; err != nil || f[0] != 5 {
		t.Fatalf("read = %v, frame %d; want the pushed frame", err, f[0])
	}
	closed := make(chan struct{})
	close(closed)
	if err := j.Read(ctx, closed, &f); !errors.Is(err, telephony.ErrLegClosed) {
		t.Fatalf("read on a closed leg = %v", err)
	}
	cancelled, stop := context.WithCancel(ctx)
	stop()
	if err := j.Read(cancelled, nil, &f); !errors.Is(err, context.Canceled) {
		t.Fatalf("read with a cancelled ctx = %v", err)
	}
}

// TestJitterBufferKeepsNothingUntilRead: audio pushed while nobody reads
// is not buffered (a keypad-only call holds no ring), its placement is
// still reported (for the recording), and a reader that starts late
// begins at the present, not a ring's worth in the past.
func TestJitterBufferKeepsNothingUntilRead(t *testing.T) {
	t0 := time.Unix(1000, 0)
	j := New(t0)
	for k := range 100 {
		at := t0.Add(time.Duration(k) * audio.FrameDuration)
		if pos := j.Push(at, 1, uint32(k*audio.FrameSamples), frameOf(1)); pos != int64(k*audio.FrameSamples) {
			t.Fatalf("packet %d placed at %d", k, pos)
		}
	}
	if j.Listening() {
		t.Fatal("the ring was allocated without a reader")
	}
	now := t0.Add(100 * audio.FrameDuration)
	var f audio.Frame
	if _, ok := j.tryRead(now, &f); ok {
		t.Fatalf("a late reader got a frame at once (readIdx %d): stale audio", j.readIdx)
	}
	if j.slots == nil || j.readIdx != 100 {
		t.Fatalf("after the first read: ring %v, readIdx %d, want 100", j.slots != nil, j.readIdx)
	}
	j.Push(now, 1, 100*audio.FrameSamples, frameOf(7))
	if got := readAt(t, j, now.Add(time.Millisecond)); got[0] != 7 {
		t.Errorf("first frame read = %d, want the present one (7)", got[0])
	}
}
