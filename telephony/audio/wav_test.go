package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// onlyReader hides Seek, like a pipe.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// seekBuf is an in-memory io.WriteSeeker.
type seekBuf struct{ bytes.Buffer }

func (s *seekBuf) Seek(int64, int) (int64, error) { return int64(s.Len()), nil }

// wavBytes builds a WAV by hand: fmt fields, optional extra chunks before
// data, the data bytes and the sizes to declare (-1 = true size).
type wavSpec struct {
	tag, channels, rate, bits int
	fmtExtra                  []byte // appended to the 16-byte fmt body
	before                    []byte // raw chunks between fmt and data
	data                      []byte
	riffSize, dataSize        int64
}

func (s wavSpec) bytes() []byte {
	le := binary.LittleEndian
	fmtBody := make([]byte, 16)
	le.PutUint16(fmtBody[0:], uint16(s.tag))
	le.PutUint16(fmtBody[2:], uint16(s.channels))
	le.PutUint32(fmtBody[4:], uint32(s.rate))
	le.PutUint32(fmtBody[8:], uint32(s.rate*s.channels*s.bits/8))
	le.PutUint16(fmtBody[12:], uint16(s.channels*s.bits/8))
	le.PutUint16(fmtBody[14:], uint16(s.bits))
	fmtBody = append(fmtBody, s.fmtExtra...)
	var b []byte
	b = append(b, "RIFF\x00\x00\x00\x00WAVEfmt "...)
	b = le.AppendUint32(b, uint32(len(fmtBody)))
	b = append(b, fmtBody...)
	b = append(b, s.before...)
	b = append(b, "data"...)
	ds := s.dataSize
	if ds < 0 {
		ds = int64(len(s.data))
	}
	b = le.AppendUint32(b, uint32(ds))
	b = append(b, s.data...)
	rs := s.riffSize
	if rs < 0 {
		rs = int64(len(b) - 8)
	}
	le.PutUint32(b[4:], uint32(rs))
	return b
}

func pcmBytes(pcm []int16) []byte {
	var b []byte
	for _, s := range pcm {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

func TestWAVRoundTripMono(t *testing.T) {
	in := Tone(1000, -3, 1234, Rate)
	var w seekBuf
	if err := WriteWAV(&w, in, Rate, 1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.Bytes(), EncodeWAV(in, Rate, 1)) {
		t.Fatal("WriteWAV and EncodeWAV disagree")
	}
	if len(w.Bytes()) != 44+2*len(in) {
		t.Fatalf("file is %d bytes, want %d", len(w.Bytes()), 44+2*len(in))
	}
	for name, read := range map[string]func([]byte) ([]int16, int, error){
		"ReadWAV":       func(b []byte) ([]int16, int, error) { return ReadWAV(bytes.NewReader(b)) },
		"ReadWAVStream": func(b []byte) ([]int16, int, error) { return ReadWAVStream(onlyReader{bytes.NewReader(b)}) },
	} {
		got, rate, err := read(w.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if rate != Rate || !slices.Equal(got, in) {
			t.Errorf("%s: rate %d, %d samples equal=%v", name, rate, len(got), slices.Equal(got, in))
		}
	}
}

func TestWAVStereoMixdown(t *testing.T) {
	inter := []int16{1000, 3000, -32768, -32768, 32767, 32767, 10, -10}
	b := EncodeWAV(inter, 16000, 2)
	if ch := binary.LittleEndian.Uint16(b[22:]); ch != 2 {
		t.Fatalf("header says %d channels", ch)
	}
	got, rate, err := ReadWAV(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int16{2000, -32768, 32767, 0}; rate != 16000 || !slices.Equal(got, want) {
		t.Errorf("got %v at %d Hz, want %v at 16000", got, rate, want)
	}
}

func TestWAVFormats(t *testing.T) {
	tone := Tone(700, -6, 800, Rate)
	ulaw, alaw := EncodeUlaw(nil, tone), EncodeAlaw(nil, tone)
	ext := func(tag uint16) []byte { // WAVEFORMATEXTENSIBLE tail: cbSize 22 + 22 bytes
		e := make([]byte, 24)
		binary.LittleEndian.PutUint16(e[0:], 22)
		binary.LittleEndian.PutUint16(e[8:], tag)
		return e
	}
	list := append([]byte("LIST\x05\x00\x00\x00abcde\x00"), "fact\x04\x00\x00\x00\x20\x03\x00\x00"...)
	cases := []struct {
		name string
		spec wavSpec
		want []int16
	}{
		{"mu-law", wavSpec{tag: 7, channels: 1, rate: Rate, bits: 8, data: ulaw, riffSize: -1, dataSize: -1}, DecodeUlaw(nil, ulaw)},
		{"a-law", wavSpec{tag: 6, channels: 1, rate: Rate, bits: 8, data: alaw, riffSize: -1, dataSize: -1}, DecodeAlaw(nil, alaw)},
		{"pcm8", wavSpec{tag: 1, channels: 1, rate: Rate, bits: 8, data: []byte{128, 255, 0, 129}, riffSize: -1, dataSize: -1},
			[]int16{0, 127 << 8, -128 << 8, 256}},
		{"extensible pcm16", wavSpec{tag: 0xFFFE, channels: 1, rate: 48000, bits: 16, fmtExtra: ext(1), data: pcmBytes(tone), riffSize: -1, dataSize: -1}, tone},
		{"odd LIST chunk and fact before data", wavSpec{tag: 7, channels: 1, rate: Rate, bits: 8, before: list, data: ulaw, riffSize: -1, dataSize: -1}, DecodeUlaw(nil, ulaw)},
		{"espeak placeholders", wavSpec{tag: 1, channels: 1, rate: 22050, bits: 16, data: pcmBytes(tone), riffSize: 0x7FFFF024, dataSize: 0x7FFFF000}, tone},
		{"0xFFFFFFFF data size, odd tail byte", wavSpec{tag: 1, channels: 1, rate: 22050, bits: 16, data: append(pcmBytes(tone), 7), riffSize: -1, dataSize: 0xFFFFFFFF}, tone},
		{"trailing chunk after data ignored", wavSpec{tag: 1, channels: 1, rate: Rate, bits: 16, data: append(pcmBytes(tone[:3]), "LIST\x00\x00\x00\x00"...), riffSize: -1, dataSize: 6}, tone[:3]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.spec.bytes()
			for _, r := range []io.Reader{bytes.NewReader(b), onlyReader{bytes.NewReader(b)}} {
				got, rate, err := ReadWAVStream(r)
				if err != nil {
					t.Fatalf("%T: %v", r, err)
				}
				if rate != c.spec.rate || !slices.Equal(got, c.want) {
					t.Errorf("%T: %d samples at %d Hz, want %d at %d (equal=%v)", r, len(got), rate, len(c.want), c.spec.rate, slices.Equal(got, c.want))
				}
			}
		})
	}
}

func TestWAVErrors(t *testing.T) {
	good := wavSpec{tag: 1, channels: 1, rate: Rate, bits: 16, data: make([]byte, 100), riffSize: -1, dataSize: -1}
	with := func(f func(*wavSpec)) []byte { s := good; f(&s); return s.bytes() }
	valid := good.bytes()
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrNotWAV},
		{"not riff", []byte("OggS\x00\x00\x00\x00WAVEfmt "), ErrNotWAV},
		{"riff but not wave", []byte("RIFF\x00\x00\x00\x00AVI LIST"), ErrNotWAV},
		{"float", with(func(s *wavSpec) { s.tag, s.bits = 3, 32 }), ErrUnsupportedWAV},
		{"24-bit", with(func(s *wavSpec) { s.bits = 24 }), ErrUnsupportedWAV},
		{"12-bit mu-law", with(func(s *wavSpec) { s.tag, s.bits = 7, 16 }), ErrUnsupportedWAV},
		{"zero channels", with(func(s *wavSpec) { s.channels = 0 }), ErrUnsupportedWAV},
		{"zero rate", with(func(s *wavSpec) { s.rate = 0 }), ErrUnsupportedWAV},
		{"short fmt", append([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x08\x00\x00\x00"), make([]byte, 8)...), ErrNotWAV},
		{"truncated fmt", valid[:30], ErrTruncatedWAV},
		{"no data chunk", valid[:36], ErrTruncatedWAV},
		{"truncated data", valid[:len(valid)-10], ErrTruncatedWAV},
		{"data before fmt", []byte("RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00"), ErrUnsupportedWAV},
		{"huge chunk before data", with(func(s *wavSpec) { s.before = []byte("JUNK\x00\x00\x00\x70") }), ErrTruncatedWAV},
		{"unknown-size chunk before data", with(func(s *wavSpec) { s.before = []byte("JUNK\xff\xff\xff\xff") }), ErrUnsupportedWAV},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, r := range []io.Reader{bytes.NewReader(c.in), onlyReader{bytes.NewReader(c.in)}} {
				_, _, err := ReadWAVStream(r)
				if !errors.Is(err, c.want) {
					t.Errorf("%T: error = %v, want %v", r, err, c.want)
				}
			}
		})
	}
}

func TestWriteWAVErrors(t *testing.T) {
	for _, c := range []struct {
		n, rate, ch int
	}{{4, Rate, 0}, {3, Rate, 2}, {4, 0, 1}, {4, Rate, 17}} {
		if err := WriteWAV(&seekBuf{}, make([]int16, c.n), c.rate, c.ch); err == nil {
			t.Errorf("WriteWAV(%d samples, %d Hz, %d ch) succeeded, want error", c.n, c.rate, c.ch)
		}
	}
}

// TestWAVEspeak reads real espeak-ng output through a pipe (placeholder
// sizes) and from a file (true sizes); both must give the same samples.
func TestWAVEspeak(t *testing.T) {
	espeak, err := exec.LookPath("espeak-ng")
	if err != nil {
		if os.Getenv("HOTLINE_E2E") == "1" {
			t.Fatal("espeak-ng not installed")
		}
		t.Skip("espeak-ng not installed")
	}
	const text = "Dzień dobry, tu wirtualny asystent."
	cmd := exec.Command(espeak, "-v", "pl", "--stdout", text)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	piped, rate, err := ReadWAVStream(out)
	if werr := cmd.Wait(); err == nil && werr != nil {
		err = werr
	}
	if err != nil {
		t.Fatalf("reading espeak-ng --stdout: %v", err)
	}
	if rate != 22050 || len(piped) < rate {
		t.Fatalf("espeak-ng --stdout: %d samples at %d Hz, want > 1 s at 22050", len(piped), rate)
	}
	path := filepath.Join(t.TempDir(), "p.wav")
	if b, err := exec.Command(espeak, "-v", "pl", "-w", path, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng -w: %v: %s", err, b)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fromFile, _, err := ReadWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(piped, fromFile) {
		t.Errorf("pipe gave %d samples, file %d; want identical", len(piped), len(fromFile))
	}
	if DBFS(RMS(piped)) < -40 {
		t.Errorf("espeak audio RMS %.1f dBFS: suspiciously quiet", DBFS(RMS(piped)))
	}
}

// TestWAVSox reads µ-law, A-law and stereo WAVs written by sox.
func TestWAVSox(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox not installed")
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
	}{
		{"ulaw.wav", []string{"-e", "mu-law", "-c", "1"}},
		{"alaw.wav", []string{"-e", "a-law", "-c", "1"}},
		{"stereo.wav", []string{"-e", "signed-integer", "-b", "16", "-c", "2"}},
	} {
		path := filepath.Join(dir, c.name)
		args := append([]string{"-D", "-r", "8000", "-n"}, c.args...)
		args = append(args, path, "synth", "0.5", "sine", "1000", "vol", "0.5")
		if b, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
			t.Fatalf("sox %v: %v: %s", args, err, b)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		pcm, rate, err := ReadWAV(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if rate != 8000 || len(pcm) != 4000 {
			t.Errorf("%s: %d samples at %d Hz, want 4000 at 8000", c.name, len(pcm), rate)
		}
		// vol 0.5 → peak ≈ 16384, RMS ≈ −9 dBFS.
		if lvl := DBFS(RMS(pcm)); lvl < -9.5 || lvl > -8.5 {
			t.Errorf("%s: RMS %.2f dBFS, want ≈ −9", c.name, lvl)
		}
	}
}

func FuzzReadWAV(f *testing.F) {
	f.Add(EncodeWAV(Tone(440, -6, 100, Rate), Rate, 1))
	f.Add(EncodeWAV([]int16{1, 2, 3, 4}, 16000, 2))
	f.Add(wavSpec{tag: 7, channels: 1, rate: Rate, bits: 8, data: []byte{1, 2, 3}, riffSize: 0x7FFFF024, dataSize: 0x7FFFF000}.bytes())
	f.Add(wavSpec{tag: 0xFFFE, channels: 3, rate: 44100, bits: 16, data: make([]byte, 13), riffSize: -1, dataSize: 0x70000000}.bytes())
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEJUNK\xff\xff\xff\x7f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, r := range []io.Reader{bytes.NewReader(b), onlyReader{bytes.NewReader(b)}} {
			pcm, rate, err := ReadWAVStream(r)
			if err != nil {
				continue
			}
			// Memory is bounded by the input: at most one sample per byte
			// (8-bit mono) regardless of the declared sizes.
			if len(pcm) > len(b) {
				t.Fatalf("%d samples from %d bytes", len(pcm), len(b))
			}
			if rate < 1 {
				t.Fatalf("rate %d accepted", rate)
			}
		}
	})
}
