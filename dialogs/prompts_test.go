package dialogs_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"gopkg.in/yaml.v3"

	"hotline/dialogs"
)

// promptFile is the Polish wording the flow's prompt ids refer to.
const promptFile = "../configs/prompts.pl.yaml"

func loadPrompts(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(promptFile)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", promptFile, err)
	}
	return m
}

// TestPromptFileMatchesFlow: the flow and the wording name the same ids.
func TestPromptFileMatchesFlow(t *testing.T) {
	texts := loadPrompts(t)
	ids := dialogs.PromptIDs()
	if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("PromptIDs not sorted and unique: %v", ids)
	}
	for _, id := range ids {
		if strings.TrimSpace(texts[id]) == "" {
			t.Errorf("prompt %q has no text in %s", id, promptFile)
		}
	}
	for id := range texts {
		if !slices.Contains(ids, id) && !slices.Contains(dialogs.HoldPromptIDs(), id) {
			t.Errorf("%s: %q is never used by the flow", promptFile, id)
		}
	}
}

// TestPromptTexts checks the wording rules: numbers in words, no
// abbreviations, known placeholders only, keypad prompts that do not ask
// the caller to speak.
func TestPromptTexts(t *testing.T) {
	placeholder := regexp.MustCompile(`\{[^{}]*\}`)
	known := []string{"{company}", "{phone}", "{email}", "{address}", "{website}", "{hours}"}
	abbreviations := []string{"np", "nr", "ul", "tel", "zł", "gr", "godz", "pkt", "art", "tj", "itp", "itd", "ok", "min", "sp", "pn", "pt"}
	for id, text := range loadPrompts(t) {
		if strings.ContainsFunc(text, unicode.IsDigit) {
			t.Errorf("%s: digits in %q (write numbers as words)", id, text)
		}
		for _, p := range placeholder.FindAllString(text, -1) {
			if !slices.Contains(known, p) {
				t.Errorf("%s: unknown placeholder %s", id, p)
			}
		}
		if rest := placeholder.ReplaceAllString(text, ""); strings.ContainsAny(rest, "{}") {
			t.Errorf("%s: stray brace in %q", id, text)
		}
		words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) })
		for _, w := range words {
			if slices.Contains(abbreviations, w) {
				t.Errorf("%s: abbreviation %q in %q", id, w, text)
			}
		}
		if !strings.HasSuffix(id, "_speech") && slices.ContainsFunc(words, func(w string) bool {
			return strings.HasPrefix(w, "powiedz") || strings.HasPrefix(w, "wypowiedz") || strings.HasPrefix(w, "mów")
		}) {
			t.Errorf("%s: keypad wording asks the caller to speak: %q", id, text)
		}
	}
}
