package voice_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"hotline/assistant/assistanttest"
	"hotline/assistant/redistest"
	"hotline/assistant/voice"
	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/speech/say"
	"hotline/telephony/speech/stt"
	"hotline/telephony/telephonytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// textSpeaker "renders" an utterance as one frame per 4 characters of its
// text, so a test can tell long utterances from short ones, and records
// every text it rendered.
type textSpeaker struct {
	prompts map[string]string
	said    chan string
}

type frames struct{ n int }

func (f *frames) ReadFrame(*audio.Frame) error {
	if f.n == 0 {
		return io.EOF
	}
	f.n--
	return nil
}
func (f *frames) Close() error { return nil }

func (s *textSpeaker) Render(_ context.Context, u say.Utterance) (voice.Stream, error) {
	text, err := say.RenderText(u, func(id string) (string, bool) { t, ok := s.prompts[id]; return t, ok })
	if err != nil {
		return nil, err
	}
	s.said <- text
	return &frames{n: len(text)/4 + 1}, nil
}

type rig struct {
	leg     *telephonytest.Leg
	speaker *textSpeaker
	done    chan error
	sess    *assistanttest.Rig
}

func start(t *testing.T, consultantHours string, playDelay time.Duration, ears ...*fakeEars) *rig {
	return startWith(t, consultantHours, playDelay, nil, ears...)
}

func startWith(t *testing.T, consultantHours string, playDelay time.Duration, setup func(*telephonytest.Leg), ears ...*fakeEars) *rig {
	t.Helper()
	rdb, _, prefix := redistest.Mini(t)
	ar := assistanttest.New(t, rdb, prefix, assistanttest.Options{ConsultantHours: consultantHours})
	sp := &textSpeaker{prompts: ar.Prompts, said: make(chan string, 256)}
	opt := voice.Options{Engine: ar.Engine, Speaker: sp, InterDigitTimeout: 2 * time.Second}
	if len(ears) > 0 {
		opt.NewEars = func(context.Context) (voice.Ears, error) { return ears[0], nil }
	}
	h, err := voice.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	leg := telephonytest.NewLeg(telephony.LegInfo{ID: "voice-" + strings.ReplaceAll(t.Name(), "/", "-"), Type: "sip", Direction: telephony.Inbound})
	leg.PlayDelay = playDelay
	if setup != nil {
		setup(leg)
	}
	r := &rig{leg: leg, speaker: sp, done: make(chan error, 1), sess: ar}
	go func() { r.done <- h.ServeCall(context.Background(), leg) }()
	t.Cleanup(func() {
		leg.CallerHangup()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Error("handler did not return")
		}
	})
	return r
}

// waitSaid waits until the bot has said a line containing want.
func (r *rig) waitSaid(t *testing.T, want string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-r.speaker.said:
			if strings.Contains(s, want) {
				return s
			}
		case <-deadline:
			t.Fatalf("the bot never said %q", want)
		}
	}
}

func (r *rig) waitEnd(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for Cleanup
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("call did not end")
		return nil
	}
}

func TestKeypadCallToDebtAndGoodbyeTransfer(t *testing.T) {
	r := start(t, "", 0)
	r.waitSaid(t, "numer akt sprawy")
	// Typed ahead in one go: the case number answers the first question,
	// the date of birth waits for the second.
	r.leg.Press("12345678#02011980")
	r.waitSaid(t, "Tożsamość została potwierdzona")
	r.waitSaid(t, "Informacje o zadłużeniu")
	r.leg.Press("1")
	r.waitSaid(t, "tysiąc czterysta dziewięćdziesiąt dziewięć złotych siedemdziesiąt osiem groszy")
	r.waitSaid(t, "Czy mogę jeszcze")
	r.leg.Press("0")
	if err := r.waitEnd(t); err != nil {
		t.Fatal(err)
	}
	if got := r.leg.Cause(); got != telephony.CauseTransferred {
		t.Fatalf("cause = %s", got)
	}
	tr := r.leg.Transfers()
	if len(tr) != 1 || tr[0].Headers["X-Hotline-Case"] != "12345678" || tr[0].Headers["X-Hotline-Verified"] != "true" ||
		!strings.Contains(tr[0].Headers["X-Hotline-Disclosed"], "balance") {
		t.Fatalf("transfer request = %+v", tr)
	}
}

func TestCallerHangsUpMidPrompt(t *testing.T) {
	r := start(t, "", 0)
	r.waitSaid(t, "numer akt sprawy")
	r.leg.CallerHangup()
	if err := r.waitEnd(t); err != nil {
		t.Fatal(err)
	}
	s, err := r.sess.Sessions.Load(context.Background(), r.leg.Info().ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.Termination != string(telephony.CauseCallerHangup) || s.EndedAt.IsZero() {
		t.Fatalf("session termination = %q", s.Termination)
	}
}

func TestNoticesAreNotInterruptedButMenuIs(t *testing.T) {
	r := start(t, "", time.Millisecond)
	<-r.leg.Played() // the greeting
	r.waitSaid(t, "wirtualnym asystentem")
	// A key during the notices does not cut them short.
	r.leg.Press("1")
	r.waitSaid(t, "nagrywana")
	// The "1" typed during the notices begins the case number (and the
	// caller, who has already started, is not asked for it).
	r.leg.Press("2345678#")
	r.waitSaid(t, "datę urodzenia")
	r.leg.Press("02011980")
	r.waitSaid(t, "Informacje o zadłużeniu")
	r.leg.Press("9") // barge-in on the menu: repeat
	r.waitSaid(t, "Informacje o zadłużeniu")
}

func TestKeyDuringGreetingStillPlaysTheNotices(t *testing.T) {
	for _, how := range []string{"key", "speech"} {
		t.Run(how, func(t *testing.T) {
			// 20 ms per frame: the greeting plays for about 140 ms, so the
			// barge-in below lands while it plays.
			ears := &fakeEars{events: make(chan stt.Event, 8)}
			r := start(t, "", 20*time.Millisecond, ears)
			r.waitSaid(t, "Dzień dobry") // the greeting, which allows barge-in
			if how == "key" {
				r.leg.Press("1")
			} else {
				ears.events <- stt.Event{Kind: stt.EventSpeechStart, Utterance: 1}
			}
			// Both mandatory notices are said in full all the same.
			r.waitSaid(t, "wirtualnym asystentem")
			r.waitSaid(t, "nagrywana")
		})
	}
}

// fakeEars delivers the events a test sends, as the stt.Listener would.
type fakeEars struct{ events chan stt.Event }

func (f *fakeEars) Feed([]int16)             {}
func (f *fakeEars) Events() <-chan stt.Event { return f.events }
func (f *fakeEars) Close() error             { return nil }

func TestSpokenRequestBargesInAndIsUnderstood(t *testing.T) {
	ears := &fakeEars{events: make(chan stt.Event, 8)}
	r := start(t, "", time.Millisecond, ears)
	r.waitSaid(t, "numer akt sprawy")
	ears.events <- stt.Event{Kind: stt.EventSpeechStart, Utterance: 1}
	ears.events <- stt.Event{Kind: stt.EventTranscript, Utterance: 1, Text: "jeden dwa trzy cztery pięć sześć siedem osiem"}
	r.waitSaid(t, "datę urodzenia")
	ears.events <- stt.Event{Kind: stt.EventTranscript, Utterance: 2, Text: "drugiego stycznia tysiąc dziewięćset osiemdziesiątego"}
	r.waitSaid(t, "Tożsamość została potwierdzona")
	ears.events <- stt.Event{Kind: stt.EventTranscript, Utterance: 3, Text: "ile jestem winien"}
	r.waitSaid(t, "tysiąc czterysta dziewięćdziesiąt dziewięć złotych")
}

func TestFailedTransferComesBackWithACallbackOffer(t *testing.T) {
	r := startWith(t, "", 0, func(l *telephonytest.Leg) { l.TransferErr = telephony.ErrTransferFailed })
	r.waitSaid(t, "numer akt sprawy")
	r.leg.Press("12345678#02011980")
	r.waitSaid(t, "Informacje o zadłużeniu")
	r.leg.Press("0")
	r.waitSaid(t, "Łączę z konsultantem")
	r.waitSaid(t, "nie udało się połączyć z konsultantem")
	r.waitSaid(t, "Opcja numer jeden")
	r.leg.Press("1")
	r.waitSaid(t, "Zadzwonimy do Pana lub Pani")
	if got := len(r.leg.Transfers()); got != 1 {
		t.Fatalf("%d transfer attempts", got)
	}
}
