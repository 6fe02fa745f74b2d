package configs

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	_ "time/tzdata" // Europe/Warsaw must resolve on machines without zoneinfo
)

//go:embed hotline.yaml
var defaultYAML []byte

// DefaultYAML returns the built-in defaults file, as documentation.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// EnvPrefix starts every environment override.
const EnvPrefix = "HOTLINE_"

// Load returns the configuration: the built-in defaults, then the file at
// path (if not empty), then HOTLINE_<SECTION>_<KEY> variables from env
// (pass os.LookupEnv), validated.
func Load(path string, env func(string) (string, bool)) (*Config, error) {
	var c Config
	if err := decodeStrict("built-in defaults", defaultYAML, &c); err != nil {
		return nil, err
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := decodeStrict(path, b, &c); err != nil {
			return nil, err
		}
	}
	if env != nil {
		if err := applyEnv(&c, env); err != nil {
			return nil, err
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Default returns the validated built-in defaults.
func Default() *Config {
	c, err := Load("", nil)
	if err != nil {
		// The embedded file is covered by tests; failing here is a build defect.
		panic(fmt.Sprintf("configs: built-in defaults are invalid: %v", err))
	}
	return c
}

func decodeStrict(name string, b []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)                                            // a misspelt key is an error, not a silent default
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // empty file: no overrides
		return fmt.Errorf("config %s: %w", name, err)
	}
	return nil
}

// applyEnv applies HOTLINE_<SECTION>_<KEY> overrides, walking nested
// sections (speech.stt.url → HOTLINE_SPEECH_STT_URL).
func applyEnv(c *Config, env func(string) (string, bool)) error {
	return applyEnvStruct(reflect.ValueOf(c).Elem(), strings.TrimSuffix(EnvPrefix, "_"), "", env)
}

func applyEnvStruct(v reflect.Value, envName, key string, env func(string) (string, bool)) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := yamlName(f)
		if tag == "" {
			continue
		}
		name := envName + "_" + strings.ToUpper(tag)
		k := tag
		if key != "" {
			k = key + "." + tag
		}
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			if err := applyEnvStruct(v.Field(i), name, k, env); err != nil {
				return err
			}
			continue
		}
		if err := setFromEnv(v.Field(i), name, k, env); err != nil {
			return err
		}
	}
	return nil
}

func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

var durationType = reflect.TypeFor[time.Duration]()

func setFromEnv(v reflect.Value, name, key string, env func(string) (string, bool)) error {
	raw, ok := env(name)
	if !ok {
		return nil
	}
	fail := func(want string) error {
		return fmt.Errorf("config: %s (%s): %q is not %s", name, key, raw, want)
	}
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fail("a duration like 30s or 5m")
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(raw)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fail("true or false")
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fail("an integer")
		}
		v.SetInt(n)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		var items []string
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		v.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("config: %s: type %s cannot be set from the environment", name, v.Type())
	}
	return nil
}
