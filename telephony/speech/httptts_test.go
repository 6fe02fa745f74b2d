package speech

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/telephony/audio"
	"hotline/telephony/speech/say"
)

// fakeSpeechServer is an OpenAI-compatible /v1/audio/speech that answers
// with a 24 kHz WAV of 10 ms per input character, and records requests.
type fakeSpeechServer struct {
	mu       sync.Mutex
	requests []speechRequest
	auth     []string
	status   int    // non-zero: answer with this status
	body     []byte // non-nil: answer with this body
	hang     bool   // wait until the client gives up
}

func (f *fakeSpeechServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/speech" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	var req speechRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	status, body, hang := f.status, f.body, f.hang
	f.mu.Unlock()
	if hang {
		<-r.Context().Done()
		return
	}
	if status != 0 {
		http.Error(w, `{"error":{"message":"model overloaded"}}`, status)
		return
	}
	if body == nil {
		body = audio.EncodeWAV(audio.Tone(250, -6, len([]rune(req.Input))*240, 24000), 24000, 1)
	}
	w.Header().Set("Content-Type", "audio/wav")
	_, _ = w.Write(body)
}

// seen returns copies of the requests and Authorization headers so far.
func (f *fakeSpeechServer) seen() ([]speechRequest, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]speechRequest(nil), f.requests...), append([]string(nil), f.auth...)
}

func newFakeSpeech(t *testing.T) (*fakeSpeechServer, string) {
	t.Helper()
	f := &fakeSpeechServer{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL + "/v1"
}

func TestHTTPTTS(t *testing.T) {
	f, url := newFakeSpeech(t)
	h, err := NewHTTPTTS(HTTPConfig{URL: url + "/", APIKey: "sk-test", Model: "tts-1", Voice: "alloy"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pcm, rate, err := h.Synthesize(context.Background(), "Bank  Przykładowy S.A.")
	if err != nil {
		t.Fatal(err)
	}
	want := speechRequest{Model: "tts-1", Input: "Bank Przykładowy es a", Voice: "alloy", ResponseFormat: "wav"}
	reqs, auth := f.seen()
	if len(reqs) != 1 || reqs[0] != want {
		t.Errorf("requests %+v, want %+v", reqs, want)
	}
	if auth[0] != "Bearer sk-test" {
		t.Errorf("Authorization %q", auth[0])
	}
	if rate != 24000 || len(pcm) != len([]rune(want.Input))*240 {
		t.Errorf("%d samples at %d Hz", len(pcm), rate)
	}
	if !strings.Contains(h.Name(), "tts-1") || !strings.Contains(h.Name(), "alloy") {
		t.Errorf("Name() = %q", h.Name())
	}
}

func TestHTTPTTSErrors(t *testing.T) {
	f, url := newFakeSpeech(t)
	h, err := NewHTTPTTS(HTTPConfig{URL: url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.status = http.StatusInternalServerError
	f.mu.Unlock()
	_, _, err = h.Synthesize(context.Background(), "tekst")
	if !errors.Is(err, ErrHTTPTTS) || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "overloaded") {
		t.Errorf("500: %v", err)
	}
	f.mu.Lock()
	f.status, f.body = 0, []byte("this is not audio")
	f.mu.Unlock()
	if _, _, err = h.Synthesize(context.Background(), "tekst"); !errors.Is(err, ErrHTTPTTS) {
		t.Errorf("garbage: %v", err)
	}
	if _, auth := f.seen(); auth[0] != "" {
		t.Errorf("Authorization sent without a key: %q", auth[0])
	}
	if _, _, err = h.Synthesize(context.Background(), "  "); !errors.Is(err, ErrEmptyText) {
		t.Errorf("empty: %v", err)
	}
	for _, bad := range []string{"", "localhost:8000/v1", "ftp://host/v1", "http://"} {
		if _, err := NewHTTPTTS(HTTPConfig{URL: bad}, nil); err == nil {
			t.Errorf("URL %q accepted", bad)
		}
	}
}

// TestRenderHTTPMode: the renderer speaks whole sentences through the
// server, at 8 kHz, caches them, and falls back to the pack when the
// server hangs past the timeout.
func TestRenderHTTPMode(t *testing.T) {
	f, url := newFakeSpeech(t)
	r, err := NewRenderer(Config{Prompts: defaultPrompts(t), Mode: ModeHTTP, Timeout: 200 * time.Millisecond,
		HTTP: HTTPConfig{URL: url, Model: "tts-1", Voice: "alloy"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u := say.New(say.Prompt("pay_next"), say.Date(day(2026, 3, 15)))
	pcm, err := r.RenderAll(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	reqs, _ := f.seen()
	text := reqs[0].Input
	if !strings.HasPrefix(text, "Najbliższą ratę należy wpłacić do piętnastego marca") {
		t.Errorf("input %q", text)
	}
	if want := len([]rune(text)) * 80; len(pcm) < want-1 || len(pcm) > want+1 {
		t.Errorf("%d samples at 8 kHz, want %d", len(pcm), want)
	}
	if _, err := r.RenderAll(ctx, u); err != nil {
		t.Fatal(err)
	}
	if reqs, _ := f.seen(); len(reqs) != 1 {
		t.Errorf("%d requests, want 1 (cached)", len(reqs))
	}
	f.mu.Lock()
	f.hang = true
	f.mu.Unlock()
	start := time.Now()
	fb, err := r.RenderAll(ctx, say.New(say.Prompt("pay_next"), say.Date(day(2026, 4, 1))))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("fallback after %v", d)
	}
	checkSpeech(t, fb, 14)
}
