package voice_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"hotline/assistant/assistanttest"
	"hotline/assistant/outbound"
	"hotline/assistant/redistest"
	"hotline/assistant/voice"
	"hotline/telephony"
	"hotline/telephony/telephonytest"
)

type outboundRig struct {
	leg     *telephonytest.Leg
	speaker *textSpeaker
	done    chan outboundResult
}

type outboundResult struct {
	outcome outbound.Outcome
	err     error
}

// startOutbound runs RunOutbound for the demo case 12345678 on a fake
// answered leg.
func startOutbound(t *testing.T) *outboundRig {
	t.Helper()
	rdb, _, prefix := redistest.Mini(t)
	ar := assistanttest.New(t, rdb, prefix, assistanttest.Options{})
	sp := &textSpeaker{prompts: ar.Prompts, said: make(chan string, 256)}
	h, err := voice.New(voice.Options{Engine: ar.Engine, Speaker: sp, InterDigitTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	leg := telephonytest.NewLeg(telephony.LegInfo{ID: "out-" + strings.ReplaceAll(t.Name(), "/", "-"), Type: "sip", Direction: telephony.Outbound})
	r := &outboundRig{leg: leg, speaker: sp, done: make(chan outboundResult, 1)}
	go func() {
		o, err := h.RunOutbound(context.Background(), leg, outbound.Job{ID: "job-1", Kind: outbound.KindCallback, CaseNumber: "12345678"})
		r.done <- outboundResult{o, err}
	}()
	t.Cleanup(func() {
		leg.CallerHangup()
		select {
		case res := <-r.done:
			r.done <- res
		case <-time.After(10 * time.Second):
			t.Error("RunOutbound did not return")
		}
	})
	return r
}

// said collects what the bot said until it says want.
func (r *outboundRig) said(t *testing.T, want string) []string {
	t.Helper()
	var lines []string
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-r.speaker.said:
			lines = append(lines, s)
			if strings.Contains(s, want) {
				return lines
			}
		case <-deadline:
			t.Fatalf("the bot never said %q; said %q", want, lines)
		}
	}
}

func (r *outboundRig) result(t *testing.T) outboundResult {
	t.Helper()
	select {
	case res := <-r.done:
		r.done <- res
		return res
	case <-time.After(10 * time.Second):
		t.Fatal("RunOutbound did not return")
		return outboundResult{}
	}
}

func TestRunOutboundWrongPartyHearsNothing(t *testing.T) {
	r := startOutbound(t)
	lines := r.said(t, "Czy rozmawiam z osobą, do której dzwonimy?")
	r.leg.Press("2")
	lines = append(lines, r.said(t, "Do widzenia.")...)
	res := r.result(t)
	if res.err != nil || res.outcome != outbound.OutcomeWrongParty {
		t.Fatalf("RunOutbound = %q, %v", res.outcome, res.err)
	}
	all := strings.Join(lines, "\n")
	for _, secret := range []string{"12345678", "złot", "zadłuż", "dług", "Wierzyciel"} {
		if strings.Contains(all, secret) {
			t.Errorf("wrong party heard %q:\n%s", secret, all)
		}
	}
	if r.leg.Cause() != telephony.CauseBotHangup {
		t.Errorf("cause = %s", r.leg.Cause())
	}
}

func TestRunOutboundRightPartyHearsTheDebtAfterVerification(t *testing.T) {
	r := startOutbound(t)
	r.said(t, "Czy rozmawiam z osobą, do której dzwonimy?")
	r.leg.Press("1")
	before := r.said(t, "datę urodzenia")
	if s := strings.Join(before, "\n"); strings.Contains(s, "złot") || strings.Contains(s, "numer akt") {
		t.Fatalf("before verification:\n%s", s)
	}
	r.leg.Press("02011980")
	r.said(t, "Tożsamość została potwierdzona")
	r.said(t, "Informacje o zadłużeniu")
	r.leg.Press("1")
	r.said(t, "tysiąc czterysta dziewięćdziesiąt dziewięć złotych")
	r.leg.CallerHangup()
	res := r.result(t)
	if res.err != nil || res.outcome != outbound.OutcomeRightParty {
		t.Fatalf("RunOutbound = %q, %v", res.outcome, res.err)
	}
}

func TestRunOutboundHangupBeforeAnswerIsNoAnswer(t *testing.T) {
	r := startOutbound(t)
	r.said(t, "Czy rozmawiam z osobą")
	r.leg.CallerHangup()
	if res := r.result(t); res.err != nil || res.outcome != outbound.OutcomeNoAnswer {
		t.Fatalf("RunOutbound = %q, %v", res.outcome, res.err)
	}
}

// onlyEngine hides StartOutbound.
type onlyEngine struct{ voice.Engine }

func TestRunOutboundNeedsAnOutboundEngine(t *testing.T) {
	rdb, _, prefix := redistest.Mini(t)
	ar := assistanttest.New(t, rdb, prefix, assistanttest.Options{})
	h, err := voice.New(voice.Options{Engine: onlyEngine{ar.Engine}, Speaker: &textSpeaker{prompts: ar.Prompts, said: make(chan string, 8)}})
	if err != nil {
		t.Fatal(err)
	}
	leg := telephonytest.NewLeg(telephony.LegInfo{ID: "out-plain", Type: "sip", Direction: telephony.Outbound})
	if o, err := h.RunOutbound(context.Background(), leg, outbound.Job{CaseNumber: "12345678"}); o != outbound.OutcomeFailed || err == nil {
		t.Fatalf("RunOutbound = %q, %v", o, err)
	}
}
