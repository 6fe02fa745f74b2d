package configs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsAreValid(t *testing.T) {
	c := Default()
	if c.Company.Name != "Alektum" || c.Redis.URL != "" || c.Redis.Prefix != "hotline:" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.Location().String() != "Europe/Warsaw" {
		t.Fatalf("location = %s", c.Location())
	}
	if c.Dialog.CaseNumberMin != 6 || c.Dialog.CaseNumberMax != 12 || c.Verify.MaxFailures != 5 {
		t.Fatalf("dialog/verify defaults wrong: %+v %+v", c.Dialog, c.Verify)
	}
}

func TestEnvOverrides(t *testing.T) {
	c, err := Load("", envOf(map[string]string{
		"HOTLINE_REDIS_URL":            "redis://127.0.0.1:6379/3",
		"HOTLINE_HTTP_LISTEN":          "127.0.0.1:0",
		"HOTLINE_API_TOKENS":           "aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbb,",
		"HOTLINE_DIALOG_INPUT_TIMEOUT": "5s",
		"HOTLINE_DIALOG_SPEECH_INPUT":  "true",
		"HOTLINE_VERIFY_MAX_FAILURES":  "7",
		"HOTLINE_TIMEZONE":             "Europe/Berlin",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Redis.URL != "redis://127.0.0.1:6379/3" || c.HTTP.Listen != "127.0.0.1:0" ||
		len(c.API.Tokens) != 2 || c.API.Tokens[1] != "bbbbbbbbbbbbbbbb" ||
		c.Dialog.InputTimeout != 5*time.Second || !c.Dialog.SpeechInput ||
		c.Verify.MaxFailures != 7 || c.Location().String() != "Europe/Berlin" {
		t.Fatalf("overrides not applied: %+v", c)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		want []string
	}{
		{"bad env duration", "", map[string]string{"HOTLINE_DIALOG_INPUT_TIMEOUT": "8"}, []string{"HOTLINE_DIALOG_INPUT_TIMEOUT", "dialog.input_timeout", "duration"}},
		{"bad env int", "", map[string]string{"HOTLINE_VERIFY_MAX_FAILURES": "five"}, []string{"verify.max_failures", "integer"}},
		{"unknown key", "dialog:\n  max_atempts: 4\n", nil, []string{"max_atempts", "not found"}},
		{"several problems at once", "log:\n  level: loud\nredis:\n  url: http://x\ndialog:\n  case_number_min: 9\n  case_number_max: 3\n", nil,
			[]string{"log.level", "redis.url", "dialog.case_number_min/max"}},
		{"llm needs url", "nlu:\n  mode: llm\n", nil, []string{"nlu.base_url", "nlu.model"}},
		{"short token", "api:\n  tokens: [abc]\n", nil, []string{"api.tokens[0]", "too short"}},
		{"bad timezone", "timezone: Mars/Olympus\n", nil, []string{"timezone", "Mars/Olympus"}},
		{"cluster needs a hash tag", "redis:\n  url: redis+cluster://127.0.0.1:7000\n  prefix: \"hotline:\"\n", nil, []string{"redis.prefix", "hash tag"}},
		{"turn without credentials", "webrtc:\n  ice_servers: [\"turn:turn.example.com:3478\"]\n", nil, []string{"webrtc.turn_secret", "turn_username"}},
		{"cluster with an empty tag", "redis:\n  url: redis+cluster://127.0.0.1:7000\n  prefix: \"{}hotline:\"\n", nil, []string{"redis.prefix"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, "c.yaml", tt.file)
			}
			_, err := Load(path, envOf(tt.env))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestEmptyFileKeepsDefaults(t *testing.T) {
	c, err := Load(writeFile(t, "empty.yaml", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Company.Name != "Alektum" {
		t.Fatal("defaults lost")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestPromptTexts(t *testing.T) {
	c := Default()
	texts, err := c.PromptTexts()
	if err != nil {
		t.Fatal(err)
	}
	if len(texts) == 0 {
		t.Fatal("no prompts")
	}
	for id, s := range texts {
		if strings.ContainsAny(s, "{}") {
			t.Errorf("prompt %s keeps a placeholder: %q", id, s)
		}
	}
	var anyID string
	for id := range texts {
		anyID = id
		break
	}
	c.Company.Name = "Windykacja Testowa"
	c.Prompts.File = writeFile(t, "p.yaml", anyID+": \"Nowy tekst {company}.\"\n")
	texts, err = c.PromptTexts()
	if err != nil {
		t.Fatal(err)
	}
	if texts[anyID] != "Nowy tekst Windykacja Testowa." {
		t.Fatalf("override not applied: %q", texts[anyID])
	}
	c.Prompts.File = writeFile(t, "p.yaml", "no_such_prompt: \"x\"\n")
	if _, err := c.PromptTexts(); err == nil || !strings.Contains(err.Error(), "no_such_prompt") {
		t.Fatalf("unknown id accepted: %v", err)
	}
	c.Prompts.File = writeFile(t, "p.yaml", anyID+": \"Zadzwoń {fax}\"\n")
	if _, err := c.PromptTexts(); err == nil || !strings.Contains(err.Error(), "{fax}") {
		t.Fatalf("unknown placeholder accepted: %v", err)
	}
}

func TestNestedEnvOverride(t *testing.T) {
	c, err := Load("", envOf(map[string]string{
		"HOTLINE_SPEECH_STT_URL":         "http://127.0.0.1:9000/v1",
		"HOTLINE_SPEECH_TTS":             "espeak",
		"HOTLINE_SPEECH_VAD_END_SILENCE": "500ms",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Speech.STT.URL != "http://127.0.0.1:9000/v1" || c.Speech.TTS != "espeak" || c.Speech.VAD.EndSilence.Milliseconds() != 500 || !c.SpeechInput() {
		t.Fatalf("nested overrides not applied: %+v", c.Speech)
	}
	if _, err := Load("", envOf(map[string]string{"HOTLINE_SPEECH_TTS": "festival"})); err == nil || !strings.Contains(err.Error(), "speech.tts") {
		t.Fatalf("bad tts accepted: %v", err)
	}
}

func TestClusterPrefixWithHashTagIsValid(t *testing.T) {
	path := writeFile(t, "c.yaml", "redis:\n  url: redis+cluster://127.0.0.1:7000?addr=127.0.0.1:7001\n  prefix: \"{hotline}:\"\n")
	if _, err := Load(path, envOf(nil)); err != nil {
		t.Fatal(err)
	}
}
