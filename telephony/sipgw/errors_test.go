package sipgw

import (
	"errors"
	"fmt"
	"testing"
)

func TestDialErrorClassifies(t *testing.T) {
	for _, tc := range []struct {
		code                     int
		busy, noAnswer, rejected bool
	}{
		{486, true, false, true},
		{600, true, false, true},
		{408, false, true, true},
		{480, false, true, true},
		{487, false, true, true},
		{403, false, false, true},
		{503, false, false, true},
	} {
		err := fmt.Errorf("wrapped: %w", &DialError{StatusCode: tc.code, Reason: "x"})
		if errors.Is(err, ErrBusy) != tc.busy || errors.Is(err, ErrNoAnswer) != tc.noAnswer ||
			errors.Is(err, ErrRejected) != tc.rejected {
			t.Errorf("%d: busy %v noAnswer %v rejected %v", tc.code,
				errors.Is(err, ErrBusy), errors.Is(err, ErrNoAnswer), errors.Is(err, ErrRejected))
		}
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"+48221234567": "*********567",
		"bot":          "***",
		"12":           "**",
		"":             "",
	} {
		if got := mask(in); got != want {
			t.Errorf("mask(%q) = %q, want %q", in, got, want)
		}
	}
}
