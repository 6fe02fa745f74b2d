// Package stt is the assistant's speech recognition: a client for any
// OpenAI-compatible /audio/transcriptions endpoint (OpenAI, whisper.cpp's
// whisper-server, faster-whisper-server/speaches) and a Listener that cuts
// a call's audio into utterances with the VAD and transcribes them in the
// background. No Polish recogniser runs offline on our machines
// (reference/speech.md §2), so STT is optional: without a server the
// assistant works on keypad input alone.
package stt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"hotline/telephony/audio"
)

// Defaults for Client fields left empty.
const (
	DefaultModel    = "whisper-1"
	DefaultLanguage = "pl"
	DefaultTimeout  = 10 * time.Second
	// uploadRate: whisper models work at 16 kHz; servers without resampling
	// (whisper-server without --convert) need it, so we upsample here.
	uploadRate = 16000
	// maxResponseBytes bounds what we read from the server.
	maxResponseBytes = 1 << 20
	// maxErrorBody characters of an error response go into the error text.
	maxErrorBody = 200
)

// Errors callers may branch on. Timeouts and cancellation wrap
// context.DeadlineExceeded and context.Canceled.
var (
	// ErrNoAudio: nothing to transcribe.
	ErrNoAudio = errors.New("stt: no audio")
	// ErrStatus: the server answered with a non-2xx status (see StatusError).
	ErrStatus = errors.New("stt: error status from server")
	// ErrBadResponse: the server's 2xx answer was not the expected JSON.
	ErrBadResponse = errors.New("stt: malformed response")
)

// StatusError is a non-2xx answer. It matches ErrStatus with errors.Is.
type StatusError struct {
	StatusCode int
	// Body is the start of the response body (at most 200 characters).
	Body string
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("stt: server returned %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Body)
}

// Unwrap makes errors.Is(err, ErrStatus) true.
func (e *StatusError) Unwrap() error { return ErrStatus }

// Transcriber turns one utterance of mono 16-bit PCM into text. Client
// implements it; tests and the Listener depend on the interface.
type Transcriber interface {
	Transcribe(ctx context.Context, pcm []int16, rate int) (string, error)
}

var _ Transcriber = (*Client)(nil)

// Client calls an OpenAI-compatible transcription endpoint. The zero
// value (plus BaseURL) works; it is safe for concurrent use.
type Client struct {
	// BaseURL includes the API version: "https://api.openai.com/v1",
	// "http://127.0.0.1:8080/v1". The request goes to BaseURL+"/audio/transcriptions".
	BaseURL string
	// APIKey, if set, is sent as "Authorization: Bearer …".
	APIKey string
	// Model name; default "whisper-1" (whisper-server ignores it).
	Model string
	// Language hint (ISO 639-1); default "pl".
	Language string
	// Prompt is an optional vocabulary hint ("numer akt, PESEL, złotych, raty").
	Prompt string
	// HTTPClient; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Timeout for one request; 0 means DefaultTimeout.
	Timeout time.Duration
}

// Transcribe uploads pcm (mono, rate Hz, resampled to 16 kHz if needed) as
// a WAV file and returns the recognised text, trimmed. Empty text is not an
// error: the server heard nothing it could write down.
func (c *Client) Transcribe(ctx context.Context, pcm []int16, rate int) (string, error) {
	if len(pcm) == 0 {
		return "", ErrNoAudio
	}
	if rate <= 0 {
		return "", fmt.Errorf("stt: sample rate %d", rate)
	}
	if rate != uploadRate {
		var err error
		if pcm, err = audio.Resample(pcm, rate, uploadRate); err != nil {
			return "", fmt.Errorf("stt: resampling: %w", err)
		}
	}
	body, contentType, err := c.form(audio.EncodeWAV(pcm, uploadRate, 1))
	if err != nil {
		return "", err
	}

	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := strings.TrimRight(c.BaseURL, "/") + "/audio/transcriptions"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	if err != nil {
		return "", fmt.Errorf("stt: building request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("stt: POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	return readResponse(resp)
}

// form builds the multipart body. Field names and values follow the OpenAI
// API; whisper-server and speaches accept the same.
func (c *Client) form(wav []byte) (*bytes.Buffer, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", `form-data; name="file"; filename="utterance.wav"`)
	h.Set("Content-Type", "audio/wav")
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", fmt.Errorf("stt: building form: %w", err)
	}
	if _, err := part.Write(wav); err != nil {
		return nil, "", fmt.Errorf("stt: building form: %w", err)
	}
	fields := [][2]string{
		{"model", orDefault(c.Model, DefaultModel)},
		{"language", orDefault(c.Language, DefaultLanguage)},
		{"response_format", "json"},
		{"temperature", "0"},
	}
	if c.Prompt != "" {
		fields = append(fields, [2]string{"prompt", c.Prompt})
	}
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", fmt.Errorf("stt: building form: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", fmt.Errorf("stt: building form: %w", err)
	}
	return &buf, w.FormDataContentType(), nil
}

func readResponse(resp *http.Response) (string, error) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return "", fmt.Errorf("stt: reading response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", &StatusError{StatusCode: resp.StatusCode, Body: truncate(strings.TrimSpace(string(b)), maxErrorBody)}
	}
	var out struct {
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	if out.Text == nil {
		return "", fmt.Errorf("%w: no \"text\" field", ErrBadResponse)
	}
	return strings.TrimSpace(*out.Text), nil
}

// orDefault returns v, or def when v is empty.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// truncate shortens s to at most n runes.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
