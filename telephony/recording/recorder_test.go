package recording

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"hotline/telephony/audio"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const rate = audio.Rate

// ms is a duration in samples at 8 kHz.
func ms(n int) int { return n * rate / 1000 }

// ramp returns n samples with a recognisable, never-zero pattern.
func ramp(n int, base int16) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = base + int16(i%100) + 1
	}
	return pcm
}

func newRecorder(t *testing.T) (*Recorder, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "2026", "03", "15", "call.wav")
	r, err := New(path, rate)
	if err != nil {
		t.Fatal(err)
	}
	return r, path
}

// readStereo reads a finished recording, checking its header sizes.
func readStereo(t *testing.T, path string) (left, right []int16) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < headerSize {
		t.Fatalf("file of %d bytes", len(b))
	}
	le := func(off int) int { return int(b[off]) | int(b[off+1])<<8 | int(b[off+2])<<16 | int(b[off+3])<<24 }
	if riff, data := le(4), le(40); riff != len(b)-8 || data != len(b)-headerSize {
		t.Errorf("header sizes RIFF %d data %d, file %d bytes", riff, data, len(b))
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	left, right, gotRate, err := audio.ReadWAVStereo(f)
	if err != nil || gotRate != rate {
		t.Fatalf("ReadWAVStereo: rate %d, %v", gotRate, err)
	}
	return left, right
}

// checkSpan fails unless pcm[from:from+len(want)] equals want.
func checkSpan(t *testing.T, name string, pcm []int16, from int, want []int16) {
	t.Helper()
	if from+len(want) > len(pcm) {
		t.Fatalf("%s: %d samples, want at least %d", name, len(pcm), from+len(want))
	}
	for i, w := range want {
		if pcm[from+i] != w {
			t.Fatalf("%s: sample %d = %d, want %d", name, from+i, pcm[from+i], w)
		}
	}
}

func checkSilent(t *testing.T, name string, pcm []int16, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if pcm[i] != 0 {
			t.Fatalf("%s: sample %d = %d, want silence in [%d,%d)", name, i, pcm[i], from, to)
		}
	}
}

// TestLeftThenRightWithGap: the caller talks first, then a long pause,
// then the bot; each lands at its own offset, the rest is silence (the
// bug diago has: the silent side packed to the start of the file).
func TestLeftThenRightWithGap(t *testing.T) {
	r, path := newRecorder(t)
	caller := ramp(ms(1000), 1000)
	bot := ramp(ms(500), -5000)
	for off := 0; off < len(caller); off += audio.FrameSamples {
		r.WriteLeft(audio.Duration(off), caller[off:off+audio.FrameSamples])
	}
	r.WriteRight(1500*time.Millisecond, bot)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	left, right := readStereo(t, path)
	if len(left) != ms(2000) {
		t.Fatalf("%d samples, want %d (2 s)", len(left), ms(2000))
	}
	checkSpan(t, "left", left, 0, caller)
	checkSilent(t, "left", left, ms(1000), ms(2000))
	checkSilent(t, "right", right, 0, ms(1500))
	checkSpan(t, "right", right, ms(1500), bot)
	if st := r.Stats(); st != (Stats{}) {
		t.Errorf("stats %+v", st)
	}
	if err := r.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
	r.WriteLeft(0, caller) // after Close: ignored, no panic
}

// TestOrderWithinWindow: audio arriving out of order or one side lagging
// the other by less than Window is placed by time; beyond the window it
// is dropped and counted, never shifted.
func TestOrderWithinWindow(t *testing.T) {
	r, path := newRecorder(t)
	a, b, c := ramp(160, 100), ramp(160, 200), ramp(160, 300)
	r.WriteRight(0, ramp(ms(1000), -100))             // the bot runs 1 s ahead...
	r.WriteLeft(880*time.Millisecond, c)              // ...the caller 120 ms behind,
	r.WriteLeft(840*time.Millisecond, a)              // reordered,
	r.WriteLeft(860*time.Millisecond, b)              // within the window
	r.WriteLeft(700*time.Millisecond, ramp(160, 900)) // 300 ms behind: too late
	r.Extend(1200 * time.Millisecond)
	if st := r.Stats(); st.Late != 160 || st.Lost != 0 {
		t.Errorf("stats %+v, want 160 late samples", st)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	left, right := readStereo(t, path)
	if len(left) != ms(1200) {
		t.Fatalf("%d samples, want %d (Extend to 1.2 s)", len(left), ms(1200))
	}
	checkSilent(t, "left", left, 0, ms(840))
	checkSpan(t, "left", left, ms(840), a)
	checkSpan(t, "left", left, ms(860), b)
	checkSpan(t, "left", left, ms(880), c)
	checkSilent(t, "left", left, ms(900), ms(1200))
	checkSpan(t, "right", right, 0, ramp(ms(1000), -100))
	checkSilent(t, "right", right, ms(1000), ms(1200))
}

// TestConcurrentWriters: a receive and a send goroutine, 20 ms frames,
// the caller up to a few frames behind the bot and its packets pairwise
// reordered; everything lands in place.
func TestConcurrentWriters(t *testing.T) {
	r, path := newRecorder(t)
	const frames = 500 // 10 s
	// The sender may run up to 4 frames (80 ms, < Window) ahead.
	ahead := make(chan int, 4)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(ahead)
		for n := range frames {
			r.WriteRight(time.Duration(n)*audio.FrameDuration, ramp(160, int16(n%50)*100))
			ahead <- n
		}
	}()
	go func() {
		defer wg.Done()
		for n := range ahead {
			k := n ^ 1 // pairs swapped: reordering
			if k >= frames {
				k = n
			}
			r.WriteLeft(time.Duration(k)*audio.FrameDuration, ramp(160, -int16(k%50)*100-1))
		}
	}()
	wg.Wait()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st != (Stats{}) {
		t.Errorf("stats %+v", st)
	}
	left, right := readStereo(t, path)
	if len(left) != frames*160 {
		t.Fatalf("%d samples, want %d", len(left), frames*160)
	}
	for n := range frames {
		checkSpan(t, "left", left, n*160, ramp(160, -int16(n%50)*100-1))
		checkSpan(t, "right", right, n*160, ramp(160, int16(n%50)*100))
	}
}

// TestFileModeAndNoOverwrite: recordings are private and never replaced.
func TestFileModeAndNoOverwrite(t *testing.T) {
	r, path := newRecorder(t)
	defer r.Close()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", st.Mode().Perm())
	}
	if dst, err := os.Stat(filepath.Dir(path)); err != nil || dst.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v (%v), want 0700", dst.Mode().Perm(), err)
	}
	if st.Size() != headerSize {
		t.Errorf("a new recording is %d bytes, want the %d-byte header on disk at once", st.Size(), headerSize)
	}
	if _, err := New(path, rate); !errors.Is(err, fs.ErrExist) {
		t.Errorf("New over an existing file: %v", err)
	}
	if _, err := New(filepath.Join(t.TempDir(), "x.wav"), 7); err == nil {
		t.Error("New accepted a 7 Hz rate")
	}
}

// TestPlaceholderHeaderReadable: before Close (a crash), the file is a
// streaming WAV that readers take to EOF.
func TestPlaceholderHeaderReadable(t *testing.T) {
	r, path := newRecorder(t)
	defer r.Close()
	r.WriteLeft(0, ramp(ms(3000), 10)) // > bufSize: some of it is on disk
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	left, _, _, err := audio.ReadWAVStereo(f)
	if err != nil || len(left) == 0 {
		t.Fatalf("unfinished recording: %d samples, %v", len(left), err)
	}
	checkSpan(t, "left", left, 0, ramp(len(left), 10))
}

// failAfter accepts n bytes, then fails like a full disk.
type failAfter struct {
	w io.Writer
	n int
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k, _ := f.w.Write(p[:f.n])
		f.n = 0
		return k, syscall.ENOSPC
	}
	f.n -= len(p)
	return f.w.Write(p)
}

// TestDiskFull: a write error stops the recording without panicking or
// blocking the writers; Close reports it and leaves a valid WAV of the
// whole frames that reached the disk.
func TestDiskFull(t *testing.T) {
	r, path := newRecorder(t)
	r.w = bufio.NewWriterSize(&failAfter{w: r.f, n: 10001}, 1000) // a torn sample at the end
	for n := range 100 {
		r.WriteLeft(time.Duration(n)*audio.FrameDuration, ramp(160, 7))
		r.WriteRight(time.Duration(n)*audio.FrameDuration, ramp(160, -7))
	}
	err := r.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Close = %v, want ENOSPC reported", err)
	}
	if st := r.Stats(); st.Lost == 0 {
		t.Errorf("stats %+v: lost audio not counted", st)
	}
	left, right := readStereo(t, path) // checks the header matches the file
	if len(left) != 10000/4 {
		t.Fatalf("%d samples kept, want %d", len(left), 10000/4)
	}
	for n := 0; n+160 <= len(left); n += 160 {
		checkSpan(t, "left", left, n, ramp(160, 7))
		checkSpan(t, "right", right, n, ramp(160, -7))
	}
}

func TestSampleAt(t *testing.T) {
	r := &Recorder{frame: 160}
	for _, tc := range []struct {
		t    time.Duration
		want int64
	}{
		{0, 0}, {time.Millisecond, 8}, {62499, 0}, {62500, 1}, {20 * time.Millisecond, 160},
		{time.Hour + 125*time.Microsecond, 3600*8000 + 1}, {-time.Second, -8000},
	} {
		if got := r.sampleAt(tc.t); got != tc.want {
			t.Errorf("sampleAt(%v) = %d, want %d", tc.t, got, tc.want)
		}
	}
}
