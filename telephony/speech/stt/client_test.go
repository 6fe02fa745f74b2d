package stt

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"hotline/telephony/audio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// upload is what the fake server received.
type upload struct {
	path, auth, contentType string
	fields                  map[string]string
	fileName, fileType      string
	pcm                     []int16
	rate                    int
}

// fakeServer is an OpenAI-compatible transcription endpoint on 127.0.0.1.
// reply writes the response; uploads receives every parsed request.
func fakeServer(t *testing.T, reply func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, <-chan upload) {
	t.Helper()
	got := make(chan upload, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := upload{path: r.URL.Path, auth: r.Header.Get("Authorization"), contentType: r.Header.Get("Content-Type"), fields: map[string]string{}}
		if err := r.ParseMultipartForm(10 << 20); err != nil {
			http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
			return
		}
		for k, v := range r.MultipartForm.Value {
			u.fields[k] = strings.Join(v, ",")
		}
		if fh := r.MultipartForm.File["file"]; len(fh) == 1 {
			u.fileName, u.fileType = fh[0].Filename, fh[0].Header.Get("Content-Type")
			f, err := fh[0].Open()
			if err == nil {
				b, _ := io.ReadAll(f)
				f.Close()
				u.pcm, u.rate, err = audio.ReadWAV(bytes.NewReader(b))
			}
			if err != nil {
				http.Error(w, "bad file: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		got <- u
		reply(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func replyText(text string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"text": `+quote(text)+`}`)
	}
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func tone8k(d time.Duration) []int16 {
	return audio.Tone(440, -12, int(d.Seconds()*8000), 8000)
}

func TestTranscribeRequest(t *testing.T) {
	srv, uploads := fakeServer(t, replyText("  Tak, poproszę.  "))
	c := &Client{BaseURL: srv.URL + "/v1/", APIKey: "sk-test", Prompt: "numer akt, złotych", HTTPClient: srv.Client()}
	in := tone8k(1500 * time.Millisecond)
	text, err := c.Transcribe(context.Background(), in, 8000)
	if err != nil {
		t.Fatal(err)
	}
	if text != "Tak, poproszę." {
		t.Errorf("text %q", text)
	}
	u := <-uploads
	if u.path != "/v1/audio/transcriptions" {
		t.Errorf("path %q", u.path)
	}
	if u.auth != "Bearer sk-test" {
		t.Errorf("auth %q", u.auth)
	}
	if !strings.HasPrefix(u.contentType, "multipart/form-data; boundary=") {
		t.Errorf("content type %q", u.contentType)
	}
	want := map[string]string{"model": "whisper-1", "language": "pl", "response_format": "json", "temperature": "0", "prompt": "numer akt, złotych"}
	for k, v := range want {
		if u.fields[k] != v {
			t.Errorf("field %s = %q, want %q", k, u.fields[k], v)
		}
	}
	if len(u.fields) != len(want) {
		t.Errorf("fields %v", u.fields)
	}
	if u.fileName != "utterance.wav" || u.fileType != "audio/wav" {
		t.Errorf("file %q type %q", u.fileName, u.fileType)
	}
	// A valid 16 kHz mono WAV of the same duration, still holding the tone.
	if u.rate != 16000 {
		t.Errorf("WAV rate %d, want 16000", u.rate)
	}
	if d := len(u.pcm) - 2*len(in); d < -4 || d > 4 {
		t.Errorf("WAV has %d samples, want ≈ %d (1.5 s at 16 kHz)", len(u.pcm), 2*len(in))
	}
	mid := u.pcm[len(u.pcm)/4 : 3*len(u.pcm)/4]
	if lvl := audio.DBFS(audio.RMS(mid)); math.Abs(lvl-(-15)) > 1 {
		t.Errorf("upsampled level %.1f dBFS, want ≈ -15 (−12 dBFS peak sine)", lvl)
	}
}

func TestTranscribeDefaultsAnd16k(t *testing.T) {
	srv, uploads := fakeServer(t, replyText(""))
	c := &Client{BaseURL: srv.URL + "/v1", Model: "large-v3", Language: "en", HTTPClient: srv.Client()}
	in := audio.Tone(300, -20, 16000, 16000)
	text, err := c.Transcribe(context.Background(), in, 16000)
	if err != nil || text != "" {
		t.Fatalf("%q %v", text, err)
	}
	u := <-uploads
	if u.auth != "" {
		t.Errorf("Authorization %q sent without a key", u.auth)
	}
	if u.fields["model"] != "large-v3" || u.fields["language"] != "en" {
		t.Errorf("fields %v", u.fields)
	}
	if _, ok := u.fields["prompt"]; ok {
		t.Error("empty prompt sent")
	}
	if u.rate != 16000 || len(u.pcm) != len(in) || u.pcm[100] != in[100] {
		t.Errorf("16 kHz input was changed: %d Hz, %d samples", u.rate, len(u.pcm))
	}
}

func TestTranscribeErrors(t *testing.T) {
	long := strings.Repeat("x", 5000)
	cases := []struct {
		name  string
		reply func(http.ResponseWriter, *http.Request)
		is    error
		check func(t *testing.T, err error)
	}{
		{"500 with a long body", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "model crashed: "+long, http.StatusInternalServerError)
		}, ErrStatus, func(t *testing.T, err error) {
			var se *StatusError
			if !errors.As(err, &se) || se.StatusCode != 500 {
				t.Fatalf("not a 500 StatusError: %v", err)
			}
			if !strings.Contains(err.Error(), "500") || len([]rune(se.Body)) > 201 || strings.Contains(err.Error(), long[:300]) {
				t.Errorf("error text %d chars: %.80s…", len(err.Error()), err.Error())
			}
		}},
		{"401", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
		}, ErrStatus, nil},
		{"garbage JSON", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "<html>oops</html>")
		}, ErrBadResponse, nil},
		{"JSON without text", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, `{"segments": []}`)
		}, ErrBadResponse, nil},
		{"text of the wrong type", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, `{"text": 5}`)
		}, ErrBadResponse, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, _ := fakeServer(t, c.reply)
			cl := &Client{BaseURL: srv.URL + "/v1", HTTPClient: srv.Client()}
			text, err := cl.Transcribe(context.Background(), tone8k(200*time.Millisecond), 8000)
			if !errors.Is(err, c.is) || text != "" {
				t.Fatalf("got %q, %v; want %v", text, err, c.is)
			}
			if c.check != nil {
				c.check(t, err)
			}
		})
	}
}

func TestTranscribeTimeoutAndCancel(t *testing.T) {
	release := make(chan struct{})
	srv, _ := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		select { // a server that never answers in time
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before srv.Close (LIFO)
	c := &Client{BaseURL: srv.URL + "/v1", HTTPClient: srv.Client(), Timeout: 100 * time.Millisecond}
	start := time.Now()
	_, err := c.Transcribe(context.Background(), tone8k(100*time.Millisecond), 8000)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("timeout took %v", el)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c.Timeout = time.Minute
	if _, err := c.Transcribe(ctx, tone8k(100*time.Millisecond), 8000); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want canceled", err)
	}
}

func TestTranscribeBadInput(t *testing.T) {
	c := &Client{BaseURL: "http://127.0.0.1:1/v1"}
	if _, err := c.Transcribe(context.Background(), nil, 8000); !errors.Is(err, ErrNoAudio) {
		t.Errorf("empty audio: %v", err)
	}
	if _, err := c.Transcribe(context.Background(), []int16{1, 2}, 0); err == nil {
		t.Error("rate 0 accepted")
	}
	c.BaseURL = "://bad"
	if _, err := c.Transcribe(context.Background(), []int16{1, 2}, 8000); err == nil {
		t.Error("bad URL accepted")
	}
}
