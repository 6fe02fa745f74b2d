package say

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"hotline/telephony/speech/polish"
)

// ErrUnknownPrompt is returned (wrapped) when a prompt segment names an id
// the prompt table does not have.
var ErrUnknownPrompt = errors.New("say: unknown prompt")

// ErrInvalidSegment is returned (wrapped) when a segment cannot be spoken:
// an unknown kind, or a value out of range (month 13, minute 60, no digits).
var ErrInvalidSegment = errors.New("say: invalid segment")

// RenderText renders an utterance to Polish text, as chat mode prints it and
// as a TTS engine should receive it: prompt segments are looked up with
// prompts (nil means no prompts are known) and values are put into words
// with package polish (see Words). Pieces are joined with single spaces,
// except that a piece starting with , . ; : ? or ! is attached to the one
// before it; the result ends with a full stop unless it already ends with
// . ? ! or …. An utterance with nothing to say renders as "".
//
// It is not named Text because Text is already the free-text segment
// constructor.
func RenderText(u Utterance, prompts func(id string) (string, bool)) (string, error) {
	var b strings.Builder
	for i, seg := range u.Segments {
		piece, err := segmentText(seg, prompts)
		if err != nil {
			return "", fmt.Errorf("segment %d (%s): %w", i, seg.Kind, err)
		}
		piece = strings.TrimSpace(piece)
		if piece == "" {
			continue
		}
		if b.Len() > 0 && !strings.ContainsRune(",.;:?!", rune(piece[0])) {
			b.WriteByte(' ')
		}
		b.WriteString(piece)
	}
	text := b.String()
	if text != "" && !strings.HasSuffix(text, ".") && !strings.HasSuffix(text, "?") &&
		!strings.HasSuffix(text, "!") && !strings.HasSuffix(text, "…") {
		text += "."
	}
	return text, nil
}

// segmentText is the text of one segment: a looked-up prompt or its words.
func segmentText(seg Segment, prompts func(id string) (string, bool)) (string, error) {
	if seg.Kind != KindPrompt {
		return Words(seg)
	}
	if prompts == nil {
		return "", fmt.Errorf("%w %q: no prompt table", ErrUnknownPrompt, seg.Prompt)
	}
	text, ok := prompts(seg.Prompt)
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownPrompt, seg.Prompt)
	}
	return text, nil
}

// Words returns one value segment in Polish words: KindAmount with
// polish.Amount, KindDate with polish.Date, KindTime with polish.Time,
// KindDigits with polish.Digits, KindAccount with polish.Account,
// KindNumber with polish.Cardinal, and KindText as it is. Prompt segments
// have no words of their own (they need the prompt pack) and, like unknown
// kinds and out-of-range values, give an error wrapping ErrInvalidSegment.
// Error messages never contain digit strings, which are case or account
// numbers.
func Words(seg Segment) (string, error) {
	switch seg.Kind {
	case KindAmount:
		return polish.Amount(seg.Value), nil
	case KindNumber:
		return polish.Cardinal(seg.Value), nil
	case KindText:
		return seg.Text, nil
	case KindDate:
		if err := checkDate(seg.Year, seg.Month, seg.Day); err != nil {
			return "", err
		}
		return polish.Date(seg.Year, seg.Month, seg.Day), nil
	case KindTime:
		if seg.Hour < 0 || seg.Hour > 23 {
			return "", fmt.Errorf("%w: hour %d out of range 0–23", ErrInvalidSegment, seg.Hour)
		}
		if seg.Minute < 0 || seg.Minute > 59 {
			return "", fmt.Errorf("%w: minute %d out of range 0–59", ErrInvalidSegment, seg.Minute)
		}
		return polish.Time(seg.Hour, seg.Minute), nil
	case KindDigits:
		if err := checkDigits(seg.Digits, "/-*# "); err != nil {
			return "", err
		}
		return polish.Digits(seg.Digits), nil
	case KindAccount:
		// A printed IBAN starts with the country code; the rest must be digits.
		if err := checkDigits(strings.TrimPrefix(seg.Digits, "PL"), " "); err != nil {
			return "", err
		}
		return polish.Account(seg.Digits), nil
	case KindPrompt:
		return "", fmt.Errorf("%w: prompt %q has no words without the prompt pack", ErrInvalidSegment, seg.Prompt)
	default:
		return "", fmt.Errorf("%w: kind %s cannot be spoken", ErrInvalidSegment, seg.Kind)
	}
}

// checkDate accepts real calendar dates in the years polish.Date reads as
// ordinals (1–9999); 31 April or 29 February 2025 are rejected, since they
// can only come from a bug or bad data.
func checkDate(year, month, day int) error {
	if year < 1 || year > 9999 {
		return fmt.Errorf("%w: year %d out of range 1–9999", ErrInvalidSegment, year)
	}
	if month < 1 || month > 12 {
		return fmt.Errorf("%w: month %d out of range 1–12", ErrInvalidSegment, month)
	}
	// Day 0 of the next month is the last day of this one.
	last := time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if day < 1 || day > last {
		return fmt.Errorf("%w: day %d out of range 1–%d for month %d", ErrInvalidSegment, day, last, month)
	}
	return nil
}

// checkDigits requires at least one digit and otherwise only the characters
// in extra. Characters polish.Digits would skip (letters) are rejected
// rather than silently dropped, because an identifier read without them is
// a different identifier.
func checkDigits(s, extra string) error {
	var digits int
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case !strings.ContainsRune(extra, r):
			return fmt.Errorf("%w: digit string contains a character other than digits and %q", ErrInvalidSegment, extra)
		}
	}
	if digits == 0 {
		return fmt.Errorf("%w: digit string has no digits", ErrInvalidSegment)
	}
	return nil
}
