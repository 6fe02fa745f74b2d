package configs

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed prompts.pl.yaml
var promptsYAML []byte

//go:embed demo-cases.yaml
var demoCasesYAML []byte

// DemoCases returns the built-in demo cases (YAML, the case-file format).
func DemoCases() []byte { return bytes.Clone(demoCasesYAML) }

// DefaultPrompts returns the built-in Polish prompt file, unexpanded.
func DefaultPrompts() []byte { return bytes.Clone(promptsYAML) }

var placeholderRE = regexp.MustCompile(`\{([a-z_]+)\}`)

// PromptTexts returns the prompt texts by id: the built-in wording, overridden
// id by id by prompts.file, with {company} {phone} {email} {address}
// {website} {hours} replaced by the company section. An override naming an
// id that does not exist, or a placeholder that does not exist, is an
// error (a typo would otherwise silently keep the old wording).
func (c *Config) PromptTexts() (map[string]string, error) {
	base, err := parsePrompts("built-in prompts", promptsYAML)
	if err != nil {
		return nil, err
	}
	if c.Prompts.File != "" {
		b, err := os.ReadFile(c.Prompts.File)
		if err != nil {
			return nil, fmt.Errorf("prompts.file: %w", err)
		}
		over, err := parsePrompts(c.Prompts.File, b)
		if err != nil {
			return nil, err
		}
		var unknown []string
		for id, text := range over {
			if _, ok := base[id]; !ok {
				unknown = append(unknown, id)
				continue
			}
			base[id] = text
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return nil, fmt.Errorf("prompts.file %s: unknown prompt ids: %s", c.Prompts.File, strings.Join(unknown, ", "))
		}
	}
	values := map[string]string{
		"company": c.Company.Name,
		"phone":   c.Company.Phone,
		"email":   c.Company.Email,
		"address": c.Company.Address,
		"website": c.Company.Website,
		"hours":   c.Company.Hours,
	}
	for id, text := range base {
		var missing []string
		base[id] = placeholderRE.ReplaceAllStringFunc(text, func(m string) string {
			name := m[1 : len(m)-1]
			v, ok := values[name]
			if !ok {
				missing = append(missing, m)
				return m
			}
			return v
		})
		if len(missing) > 0 {
			return nil, fmt.Errorf("prompt %s: unknown placeholder %s", id, strings.Join(missing, ", "))
		}
	}
	return base, nil
}

func parsePrompts(name string, b []byte) (map[string]string, error) {
	m := map[string]string{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for id, text := range m {
		if strings.TrimSpace(text) == "" {
			return nil, fmt.Errorf("%s: prompt %s is empty", name, id)
		}
	}
	return m, nil
}
