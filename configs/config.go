// Package configs holds hotline's typed configuration: the built-in
// defaults (hotline.yaml, embedded), loading of an operator's file on top
// of them, HOTLINE_<SECTION>_<KEY> environment overrides, validation, the
// Polish prompt wording (prompts.pl.yaml) and the demo cases.
package configs

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"hotline/assistant/calendar"
)

// Config is the whole configuration. Field comments live in hotline.yaml,
// which is the reference an operator reads.
type Config struct {
	Timezone    string            `yaml:"timezone"`
	Log         LogConfig         `yaml:"log"`
	HTTP        HTTPConfig        `yaml:"http"`
	SIP         SIPConfig         `yaml:"sip"`
	Redis       RedisConfig       `yaml:"redis"`
	API         APIConfig         `yaml:"api"`
	Company     CompanyConfig     `yaml:"company"`
	Prompts     PromptsConfig     `yaml:"prompts"`
	Dialog      DialogConfig      `yaml:"dialog"`
	Verify      VerifyConfig      `yaml:"verify"`
	Consultants ConsultantsConfig `yaml:"consultants"`
	Callbacks   CallbacksConfig   `yaml:"callbacks"`
	NLU         NLUConfig         `yaml:"nlu"`
	Audit       AuditConfig       `yaml:"audit"`
	Cases       CasesConfig       `yaml:"cases"`
	Speech      SpeechConfig      `yaml:"speech"`
	Recording   RecordingConfig   `yaml:"recording"`
	WebRTC      WebRTCConfig      `yaml:"webrtc"`
	Console     ConsoleConfig     `yaml:"console"`
	Outbound    OutboundConfig    `yaml:"outbound"`

	loc *time.Location
}

// LogConfig selects the log level and format.
type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// HTTPConfig is the HTTP listener.
type HTTPConfig struct {
	Listen          string        `yaml:"listen"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// SIPConfig is the SIP gateway (UDP and TCP).
type SIPConfig struct {
	Listen              string        `yaml:"listen"`
	ContactHost         string        `yaml:"contact_host"`
	RTPPortMin          int           `yaml:"rtp_port_min"`
	RTPPortMax          int           `yaml:"rtp_port_max"`
	MediaTimeout        time.Duration `yaml:"media_timeout"`
	MediaTimeoutInitial time.Duration `yaml:"media_timeout_initial"`
	MaxCalls            int           `yaml:"max_calls"`
	RingTime            time.Duration `yaml:"ring_time"`
	DrainTimeout        time.Duration `yaml:"drain_timeout"`
	TransferMode        string        `yaml:"transfer_mode"`
	TransferTarget      string        `yaml:"transfer_target"`
	AuthUsername        string        `yaml:"auth_username"`
	AuthPassword        string        `yaml:"auth_password"`
}

// RedisConfig selects the session store.
type RedisConfig struct {
	URL         string        `yaml:"url"`
	Prefix      string        `yaml:"prefix"`
	SessionTTL  time.Duration `yaml:"session_ttl"`
	DialTimeout time.Duration `yaml:"dial_timeout"`
	OpTimeout   time.Duration `yaml:"op_timeout"`
}

// APIConfig holds the bearer tokens accepted by /api/v1.
type APIConfig struct {
	Tokens []string `yaml:"tokens"`
}

// CompanyConfig is what the assistant says about the company, in words.
type CompanyConfig struct {
	Name    string `yaml:"name"`
	Phone   string `yaml:"phone"`
	Email   string `yaml:"email"`
	Address string `yaml:"address"`
	Website string `yaml:"website"`
	Hours   string `yaml:"hours"`
}

// PromptsConfig points at an override file for the prompt wording.
type PromptsConfig struct {
	File string `yaml:"file"`
}

// DialogConfig tunes the conversation flow.
type DialogConfig struct {
	CaseNumberMin int           `yaml:"case_number_min"`
	CaseNumberMax int           `yaml:"case_number_max"`
	MaxAttempts   int           `yaml:"max_attempts"`
	MaxReprompts  int           `yaml:"max_reprompts"`
	InputTimeout  time.Duration `yaml:"input_timeout"`
	CallbackSlots int           `yaml:"callback_slots"`
	SpeechInput   bool          `yaml:"speech_input"`
}

// VerifyConfig sets the per-case lockout.
type VerifyConfig struct {
	MaxFailures int           `yaml:"max_failures"`
	Window      time.Duration `yaml:"window"`
	LockFor     time.Duration `yaml:"lock_for"`
}

// ConsultantsConfig sets when consultants take transfers.
type ConsultantsConfig struct {
	Hours string `yaml:"hours"`
}

// CallbacksConfig sets when callbacks may be scheduled.
type CallbacksConfig struct {
	Hours      string        `yaml:"hours"`
	SlotLength time.Duration `yaml:"slot_length"`
	Capacity   int           `yaml:"capacity"`
	LeadTime   time.Duration `yaml:"lead_time"`
	Horizon    time.Duration `yaml:"horizon"`
}

// NLUConfig selects the understanding of speech.
type NLUConfig struct {
	Mode    string        `yaml:"mode"`
	BaseURL string        `yaml:"base_url"`
	APIKey  string        `yaml:"api_key"`
	Model   string        `yaml:"model"`
	Timeout time.Duration `yaml:"timeout"`
}

// AuditConfig caps the audit stream.
type AuditConfig struct {
	MaxLen int64 `yaml:"max_len"`
}

// CasesConfig seeds the embedded store.
type CasesConfig struct {
	SeedFile string `yaml:"seed_file"`
}

// RecordingConfig turns call recording on.
type RecordingConfig struct {
	Dir       string        `yaml:"dir"`
	Retention time.Duration `yaml:"retention"`
}

// SpeechConfig selects how the assistant speaks and hears.
type SpeechConfig struct {
	// TTS is "pack" (built-in prompt pack, values spoken by concatenating
	// word clips), "espeak" (espeak-ng CLI renders whole sentences) or
	// "http" (an OpenAI-compatible /v1/audio/speech server).
	TTS        string        `yaml:"tts"`
	Voice      string        `yaml:"voice"`
	EspeakPath string        `yaml:"espeak_path"`
	EspeakRate int           `yaml:"espeak_rate"`
	PromptsDir string        `yaml:"prompts_dir"`
	CacheSize  int           `yaml:"cache_size"`
	HTTP       SpeechHTTP    `yaml:"http"`
	STT        STTConfig     `yaml:"stt"`
	VAD        VADConfig     `yaml:"vad"`
	Timeout    time.Duration `yaml:"timeout"`
}

// SpeechHTTP is an OpenAI-compatible text-to-speech server.
type SpeechHTTP struct {
	URL    string `yaml:"url"`
	APIKey string `yaml:"api_key"`
	Model  string `yaml:"model"`
	Voice  string `yaml:"voice"`
}

// STTConfig is an OpenAI-compatible /v1/audio/transcriptions server.
type STTConfig struct {
	URL     string        `yaml:"url"`
	APIKey  string        `yaml:"api_key"`
	Model   string        `yaml:"model"`
	Timeout time.Duration `yaml:"timeout"`
	Prompt  string        `yaml:"prompt"`
}

// VADConfig tunes how caller utterances are cut for recognition.
type VADConfig struct {
	EndSilence time.Duration `yaml:"end_silence"`
	MaxSpeech  time.Duration `yaml:"max_speech"`
}

// SpeechInput reports whether callers may speak (speech recognition is
// configured or explicitly enabled); otherwise prompts ask for keys only.
func (c *Config) SpeechInput() bool { return c.Dialog.SpeechInput || c.Speech.STT.URL != "" }

// Location is the configured time zone (valid after Validate).
func (c *Config) Location() *time.Location {
	if c.loc == nil {
		return time.UTC
	}
	return c.loc
}

// Validate checks the configuration and reports every problem at once,
// each naming its key as it appears in the YAML file.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil || c.Timezone == "" {
		bad("timezone", "unknown time zone %q", c.Timezone)
	} else {
		c.loc = loc
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	if !slices.Contains([]string{"text", "json"}, c.Log.Format) {
		bad("log.format", "%q is not one of text, json", c.Log.Format)
	}
	checkHostPort := func(key, v string) {
		if _, _, err := net.SplitHostPort(v); err != nil {
			bad(key, "%q is not host:port", v)
		}
	}
	checkHostPort("http.listen", c.HTTP.Listen)
	checkHostPort("sip.listen", c.SIP.Listen)
	positive := func(key string, d time.Duration) {
		if d <= 0 {
			bad(key, "must be a positive duration, got %s", d)
		}
	}
	positive("http.shutdown_timeout", c.HTTP.ShutdownTimeout)
	if c.SIP.RTPPortMin < 1024 || c.SIP.RTPPortMax > 65534 || c.SIP.RTPPortMax-c.SIP.RTPPortMin < 2 {
		bad("sip.rtp_port_min/max", "need 1024 <= min < max <= 65534 with room for a call, got %d..%d", c.SIP.RTPPortMin, c.SIP.RTPPortMax)
	}
	positive("sip.media_timeout", c.SIP.MediaTimeout)
	positive("sip.media_timeout_initial", c.SIP.MediaTimeoutInitial)
	positive("sip.drain_timeout", c.SIP.DrainTimeout)
	if c.SIP.MaxCalls < 0 {
		bad("sip.max_calls", "must not be negative")
	}
	switch c.SIP.TransferMode {
	case "refer", "bridge":
	default:
		bad("sip.transfer_mode", "%q is not one of refer, bridge", c.SIP.TransferMode)
	}
	if c.Redis.URL != "" {
		u, err := url.Parse(c.Redis.URL)
		if err != nil || !slices.Contains([]string{"redis", "rediss", "unix",
			"redis+sentinel", "rediss+sentinel", "redis+cluster", "rediss+cluster"}, u.Scheme) {
			bad("redis.url", "must be redis://host:port/db, rediss://…, unix://…, "+
				"redis+sentinel://sentinel:26379/db?master_name=NAME&addr=sentinel2:26379 or "+
				"redis+cluster://node:6379?addr=node2:6379")
		} else if strings.HasSuffix(u.Scheme, "+cluster") && !hashTagged(c.Redis.Prefix) {
			// Callback booking, the case set and the queue run scripts and
			// MGETs over several keys: on a cluster they must share one
			// slot, which a hash tag in the common prefix guarantees.
			bad("redis.prefix", "Redis Cluster needs a prefix with a hash tag so multi-key scripts stay on one slot, e.g. \"{hotline}:\", got %q", c.Redis.Prefix)
		}
	}
	if c.Redis.Prefix == "" || strings.ContainsAny(c.Redis.Prefix, " \t\r\n") {
		bad("redis.prefix", "must be non-empty without spaces, got %q", c.Redis.Prefix)
	}
	positive("redis.session_ttl", c.Redis.SessionTTL)
	positive("redis.dial_timeout", c.Redis.DialTimeout)
	positive("redis.op_timeout", c.Redis.OpTimeout)
	for i, t := range c.API.Tokens {
		if len(t) < 16 {
			bad(fmt.Sprintf("api.tokens[%d]", i), "too short (at least 16 characters)")
		}
	}
	if strings.TrimSpace(c.Company.Name) == "" {
		bad("company.name", "must not be empty")
	}
	d := c.Dialog
	if d.CaseNumberMin < 1 || d.CaseNumberMax < d.CaseNumberMin || d.CaseNumberMax > 32 {
		bad("dialog.case_number_min/max", "need 1 <= min <= max <= 32, got %d..%d", d.CaseNumberMin, d.CaseNumberMax)
	}
	if d.MaxAttempts < 1 || d.MaxAttempts > 10 {
		bad("dialog.max_attempts", "must be 1..10, got %d", d.MaxAttempts)
	}
	if d.MaxReprompts < 1 || d.MaxReprompts > 10 {
		bad("dialog.max_reprompts", "must be 1..10, got %d", d.MaxReprompts)
	}
	positive("dialog.input_timeout", d.InputTimeout)
	if d.CallbackSlots < 1 || d.CallbackSlots > 8 {
		bad("dialog.callback_slots", "must be 1..8 (one keypad key each), got %d", d.CallbackSlots)
	}
	if c.Verify.MaxFailures < 1 {
		bad("verify.max_failures", "must be at least 1, got %d", c.Verify.MaxFailures)
	}
	positive("verify.window", c.Verify.Window)
	positive("verify.lock_for", c.Verify.LockFor)
	for key, rules := range map[string]string{"consultants.hours": c.Consultants.Hours, "callbacks.hours": c.Callbacks.Hours} {
		if _, err := calendar.ParseHours(c.Location(), rules); err != nil {
			bad(key, "%v", err)
		}
	}
	positive("callbacks.slot_length", c.Callbacks.SlotLength)
	if c.Callbacks.Capacity < 1 {
		bad("callbacks.capacity", "must be at least 1, got %d", c.Callbacks.Capacity)
	}
	if c.Callbacks.LeadTime < 0 {
		bad("callbacks.lead_time", "must not be negative")
	}
	positive("callbacks.horizon", c.Callbacks.Horizon)
	switch c.NLU.Mode {
	case "rules":
	case "llm":
		if u, err := url.Parse(c.NLU.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			bad("nlu.base_url", "nlu.mode llm needs an http(s) base URL of an OpenAI-compatible server, got %q", c.NLU.BaseURL)
		}
		if c.NLU.Model == "" {
			bad("nlu.model", "nlu.mode llm needs a model name")
		}
	default:
		bad("nlu.mode", "%q is not one of rules, llm", c.NLU.Mode)
	}
	positive("nlu.timeout", c.NLU.Timeout)
	switch c.Speech.TTS {
	case "pack", "espeak":
	case "http":
		if u, err := url.Parse(c.Speech.HTTP.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			bad("speech.http.url", "speech.tts http needs an http(s) base URL, got %q", c.Speech.HTTP.URL)
		}
	default:
		bad("speech.tts", "%q is not one of pack, espeak, http", c.Speech.TTS)
	}
	if c.Speech.STT.URL != "" {
		if u, err := url.Parse(c.Speech.STT.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			bad("speech.stt.url", "must be an http(s) base URL, got %q", c.Speech.STT.URL)
		}
	}
	if c.Speech.CacheSize < 0 {
		bad("speech.cache_size", "must not be negative")
	}
	positive("speech.timeout", c.Speech.Timeout)
	positive("speech.stt.timeout", c.Speech.STT.Timeout)
	positive("speech.vad.end_silence", c.Speech.VAD.EndSilence)
	positive("speech.vad.max_speech", c.Speech.VAD.MaxSpeech)
	if c.Recording.Dir != "" {
		positive("recording.retention", c.Recording.Retention)
	}
	if c.Audit.MaxLen < 1000 {
		bad("audit.max_len", "must be at least 1000, got %d", c.Audit.MaxLen)
	}
	c.WebRTC.check(bad)
	c.Console.check(bad)
	c.Outbound.check(bad)
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("%w:\n  %s", ErrInvalid, strings.Join(msgs, "\n  "))
	}
	return nil
}

// ErrInvalid wraps every validation failure.
var ErrInvalid = errors.New("invalid configuration")

// hashTagged reports whether a key prefix has a non-empty Redis Cluster
// hash tag ("{…}"), so every key under it maps to one slot.
func hashTagged(prefix string) bool {
	i := strings.IndexByte(prefix, '{')
	if i < 0 {
		return false
	}
	j := strings.IndexByte(prefix[i+1:], '}')
	return j > 0
}
