// Package say defines Utterance, the structured form in which the assistant
// speaks: a sequence of segments (prompt ids and typed values) that the
// telephony speech renderer turns into audio and chat mode turns into text.
//
// It sits low on purpose (its only import is the pure Polish verbalizer):
// dialogs (pure conversation flows) builds utterances and telephony/speech
// renders them, and neither may import the other. Values stay typed (grosze, calendar dates, clock times, digit
// strings) until the last moment so that Polish words are produced in Go
// from the ledger, never by a language model or by the TTS engine's own
// (wrong) text normalisation.
package say

import (
	"fmt"
	"time"
)

// Kind is the type of a Segment.
type Kind uint8

// Segment kinds. The zero value is KindUnknown and renders as an error.
const (
	KindUnknown Kind = iota
	// KindPrompt is a static prompt from the prompt pack, named by id.
	KindPrompt
	// KindAmount is a sum of money in grosze (1 PLN = 100 grosze).
	KindAmount
	// KindDate is a calendar date, read as a genitive ordinal date.
	KindDate
	// KindTime is a clock time, read with feminine ordinals ("piętnastej trzydzieści").
	KindTime
	// KindDigits is an identifier read digit by digit (case numbers).
	KindDigits
	// KindAccount is a bank account number read digit by digit in groups (NRB: 2+6×4).
	KindAccount
	// KindNumber is a cardinal number (a count, a position in a queue).
	KindNumber
	// KindText is free text already in words (a creditor's name).
	KindText
)

var kindNames = [...]string{"unknown", "prompt", "amount", "date", "time", "digits", "account", "number", "text"}

// String returns the kind's name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// MarshalText encodes the kind by name, so sessions in Redis stay readable.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes a kind name.
func (k *Kind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if n == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("say: unknown segment kind %q", b)
}

// Segment is one piece of an utterance. Only the fields of its Kind are set.
type Segment struct {
	Kind   Kind   `json:"kind"`
	Prompt string `json:"prompt,omitempty"` // KindPrompt
	Value  int64  `json:"value,omitempty"`  // KindAmount (grosze), KindNumber
	Year   int    `json:"year,omitempty"`   // KindDate
	Month  int    `json:"month,omitempty"`  // KindDate, 1–12
	Day    int    `json:"day,omitempty"`    // KindDate
	Hour   int    `json:"hour,omitempty"`   // KindTime, 0–23
	Minute int    `json:"minute,omitempty"` // KindTime
	Digits string `json:"digits,omitempty"` // KindDigits, KindAccount
	Text   string `json:"text,omitempty"`   // KindText
}

// Utterance is one thing the assistant says: segments spoken in order.
type Utterance struct {
	Segments []Segment `json:"segments"`
	// NoBargeIn marks utterances that must be played in full (the
	// mandatory notices): caller input does not interrupt them.
	NoBargeIn bool `json:"no_barge_in,omitempty"`
}

// Prompt is a static prompt segment.
func Prompt(id string) Segment { return Segment{Kind: KindPrompt, Prompt: id} }

// Amount is a money segment in grosze.
func Amount(grosze int64) Segment { return Segment{Kind: KindAmount, Value: grosze} }

// Date is a calendar date segment taken from t's year, month and day in t's location.
func Date(t time.Time) Segment {
	y, m, d := t.Date()
	return Segment{Kind: KindDate, Year: y, Month: int(m), Day: d}
}

// Time is a clock time segment taken from t's hour and minute in t's location.
func Time(t time.Time) Segment {
	return Segment{Kind: KindTime, Hour: t.Hour(), Minute: t.Minute()}
}

// Digits is a segment read digit by digit.
func Digits(s string) Segment { return Segment{Kind: KindDigits, Digits: s} }

// Account is a bank account number read in groups.
func Account(s string) Segment { return Segment{Kind: KindAccount, Digits: s} }

// Number is a cardinal number segment.
func Number(n int64) Segment { return Segment{Kind: KindNumber, Value: n} }

// Text is a free-text segment, already in words.
func Text(s string) Segment { return Segment{Kind: KindText, Text: s} }

// New builds an utterance from segments.
func New(segs ...Segment) Utterance { return Utterance{Segments: segs} }

// Notice builds an utterance that must be played in full.
func Notice(segs ...Segment) Utterance { return Utterance{Segments: segs, NoBargeIn: true} }

// Prompts lists the prompt ids an utterance uses, in order.
func (u Utterance) Prompts() []string {
	var ids []string
	for _, s := range u.Segments {
		if s.Kind == KindPrompt {
			ids = append(ids, s.Prompt)
		}
	}
	return ids
}
