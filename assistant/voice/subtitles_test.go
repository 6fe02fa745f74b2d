package voice_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"hotline/assistant/assistanttest"
	"hotline/assistant/redistest"
	"hotline/assistant/voice"
	"hotline/telephony"
	"hotline/telephony/telephonytest"
)

// screenLeg is a fake leg with a screen (a WebRTC leg's Notifier).
type screenLeg struct {
	*telephonytest.Leg
	notes chan telephony.Note
}

func (l *screenLeg) Notify(n telephony.Note) { l.notes <- n }

var _ telephony.Notifier = (*screenLeg)(nil)

// TestSubtitles: on a leg with a screen every bot line is also a
// subtitle note, the same text the speaker renders, in order.
func TestSubtitles(t *testing.T) {
	rdb, _, prefix := redistest.Mini(t)
	ar := assistanttest.New(t, rdb, prefix, assistanttest.Options{})
	sp := &textSpeaker{prompts: ar.Prompts, said: make(chan string, 256)}
	h, err := voice.New(voice.Options{Engine: ar.Engine, Speaker: sp, InterDigitTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	leg := &screenLeg{
		Leg:   telephonytest.NewLeg(telephony.LegInfo{ID: "voice-subtitles", Type: "webrtc", Direction: telephony.Inbound}),
		notes: make(chan telephony.Note, 256),
	}
	done := make(chan error, 1)
	go func() { done <- h.ServeCall(context.Background(), leg) }()
	defer func() {
		leg.CallerHangup()
		<-done
	}()

	next := func(want string) string {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case n := <-leg.notes:
				if n.Kind != telephony.NoteSubtitle {
					continue
				}
				if said := <-sp.said; said != n.Text {
					t.Fatalf("subtitle %q, but the bot said %q", n.Text, said)
				}
				if strings.Contains(n.Text, want) {
					return n.Text
				}
			case <-deadline:
				t.Fatalf("no subtitle with %q", want)
			}
		}
	}
	next("Dzień dobry")
	next("numer akt sprawy")
	leg.Press("12345678#02011980")
	next("Informacje o zadłużeniu")
	leg.Press("1")
	next("Łączna kwota do zapłaty wynosi tysiąc czterysta dziewięćdziesiąt dziewięć złotych")
}
