package speech

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"hotline/telephony/audio"
)

// maxSpeechResponse bounds the WAV an HTTP TTS server may send back: ten
// minutes of 24 kHz 16-bit audio, far more than any sentence.
const maxSpeechResponse = 32 << 20

// ErrHTTPTTS wraps every failure of the HTTP TTS server (status, body).
var ErrHTTPTTS = errors.New("speech: HTTP TTS failed")

// HTTPTTS is a client of an OpenAI-compatible text-to-speech endpoint:
// POST {URL}/audio/speech with {model, input, voice, response_format:
// "wav"}, answered with a WAV file at any rate (OpenAI, Piper and
// Coqui-style servers, speaches).
type HTTPTTS struct {
	cfg      HTTPConfig
	endpoint string
	client   *http.Client
}

var _ TTS = (*HTTPTTS)(nil)

// NewHTTPTTS returns a client for cfg.URL (including /v1). A nil client
// means http.DefaultClient; the Renderer bounds each request with its
// Timeout through the context.
func NewHTTPTTS(cfg HTTPConfig, client *http.Client) (*HTTPTTS, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("speech: HTTP TTS URL %q is not an http(s) base URL", cfg.URL)
	}
	if client == nil {
		client = http.DefaultClient
	}
	return &HTTPTTS{cfg: cfg, endpoint: strings.TrimSuffix(cfg.URL, "/") + "/audio/speech", client: client}, nil
}

// Name is "http <endpoint> model=<model> voice=<voice>".
func (h *HTTPTTS) Name() string {
	return "http " + h.endpoint + " model=" + h.cfg.Model + " voice=" + h.cfg.Voice
}

type speechRequest struct {
	Model          string `json:"model"`
	Input          string `json:"input"`
	Voice          string `json:"voice"`
	ResponseFormat string `json:"response_format"`
}

// Synthesize posts the normalised text and decodes the WAV answer.
func (h *HTTPTTS) Synthesize(ctx context.Context, text string) ([]int16, int, error) {
	text = Normalize(text)
	if text == "" {
		return nil, 0, ErrEmptyText
	}
	body, err := json.Marshal(speechRequest{Model: h.cfg.Model, Input: text, Voice: h.cfg.Voice, ResponseFormat: "wav"})
	if err != nil {
		return nil, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "audio/wav")
	if h.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+h.cfg.APIKey)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrHTTPTTS, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxSpeechResponse+1))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: reading the answer: %w", ErrHTTPTTS, err)
	}
	if resp.StatusCode != http.StatusOK {
		// The body is the server's error message; the text is not echoed.
		return nil, 0, fmt.Errorf("%w: status %d: %s", ErrHTTPTTS, resp.StatusCode, snippet(b))
	}
	if len(b) > maxSpeechResponse {
		return nil, 0, fmt.Errorf("%w: answer larger than %d bytes", ErrHTTPTTS, maxSpeechResponse)
	}
	pcm, rate, err := audio.ReadWAV(bytes.NewReader(b))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: answer is not a WAV file (%s): %w", ErrHTTPTTS, resp.Header.Get("Content-Type"), err)
	}
	return pcm, rate, nil
}

// snippet is the start of an error body, on one line.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
