package dtmf

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Content types of SIP INFO bodies that carry DTMF.
const (
	// ContentTypeDTMFRelay is the de-facto standard (Cisco) form:
	// "Signal=5\r\nDuration=160\r\n", duration in milliseconds.
	ContentTypeDTMFRelay = "application/dtmf-relay"
	// ContentTypeDTMF carries the key alone: "5".
	ContentTypeDTMF = "application/dtmf"
)

// ParseInfo extracts the key and its duration (0 when not given) from a SIP
// INFO body. contentType may carry parameters ("; charset=…") and is
// matched case-insensitively. Signals may be a key ("5", "#", "a") or an
// RFC 4733 event code ("10" for '*', "11" for '#', 12-15 for 'A'-'D'), as
// some gateways send. A malformed Duration is ignored, since the key is
// what matters.
func ParseInfo(contentType string, body []byte) (rune, time.Duration, error) {
	mediaType, _, _ := strings.Cut(contentType, ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	text := strings.TrimSpace(string(body))
	switch {
	case mediaType == ContentTypeDTMFRelay:
		return parseRelay(text)
	case mediaType == ContentTypeDTMF && strings.Contains(text, "="):
		// Some phones send the dtmf-relay form under this type.
		return parseRelay(text)
	case mediaType == ContentTypeDTMF:
		r, err := parseSignal(text)
		return r, 0, err
	default:
		return 0, 0, fmt.Errorf("%w: %q", ErrUnsupportedContentType, mediaType)
	}
}

// maxInfoDurationMs caps a believable key press (and keeps the conversion
// to time.Duration from overflowing on hostile input).
const maxInfoDurationMs = 60_000

func parseRelay(text string) (rune, time.Duration, error) {
	var (
		digit    rune
		found    bool
		duration time.Duration
	)
	for line := range strings.Lines(text) {
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "signal":
			r, err := parseSignal(value)
			if err != nil {
				return 0, 0, err
			}
			digit, found = r, true
		case "duration":
			if ms, err := strconv.Atoi(value); err == nil && ms > 0 && ms <= maxInfoDurationMs {
				duration = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if !found {
		return 0, 0, fmt.Errorf("%w: no Signal line", ErrMalformedInfo)
	}
	return digit, duration, nil
}

func parseSignal(s string) (rune, error) {
	if len(s) == 1 {
		if r, ok := EventForDigit(rune(s[0])); ok {
			d, _ := DigitForEvent(r)
			return d, nil
		}
	}
	if code, err := strconv.Atoi(s); err == nil && code >= 10 && code <= 15 {
		d, _ := DigitForEvent(uint8(code))
		return d, nil
	}
	return 0, fmt.Errorf("%w: signal %q", ErrMalformedInfo, truncate(s, 16))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
