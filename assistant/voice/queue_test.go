package voice_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/assistant"
	"hotline/assistant/assistanttest"
	"hotline/assistant/redistest"
	"hotline/assistant/voice"
	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/telephonytest"
)

// fakeQueue reports place 2 then 1, then hands over the consultant leg
// (or, with leg nil, times out).
type fakeQueue struct {
	leg     telephony.Leg
	back    chan struct{}
	release chan struct{} // closed by the test: Wait returns

	mu       sync.Mutex
	contexts []*assistant.TransferContext
	outcomes chan string
}

func (q *fakeQueue) Wait(ctx context.Context, tc *assistant.TransferContext, position func(int)) (telephony.Leg, <-chan struct{}, error) {
	q.mu.Lock()
	q.contexts = append(q.contexts, tc)
	q.mu.Unlock()
	position(2)
	position(1)
	select {
	case <-q.release:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	if q.leg == nil {
		return nil, nil, errors.New("nobody answered in time")
	}
	return q.leg, q.back, nil
}

func (q *fakeQueue) Finish(_ context.Context, _, outcome string) { q.outcomes <- outcome }

func startQueued(t *testing.T, q *fakeQueue) *rig {
	t.Helper()
	rdb, _, prefix := redistest.Mini(t)
	ar := assistanttest.New(t, rdb, prefix, assistanttest.Options{})
	sp := &textSpeaker{prompts: ar.Prompts, said: make(chan string, 256)}
	h, err := voice.New(voice.Options{Engine: ar.Engine, Speaker: sp, InterDigitTimeout: 2 * time.Second, Queue: q})
	if err != nil {
		t.Fatal(err)
	}
	leg := telephonytest.NewLeg(telephony.LegInfo{ID: "queued-" + strings.ReplaceAll(t.Name(), "/", "-"), Type: "sip", Direction: telephony.Inbound})
	leg.PlayDelay = time.Millisecond
	r := &rig{leg: leg, speaker: sp, done: make(chan error, 1), sess: ar}
	go func() { r.done <- h.ServeCall(context.Background(), leg) }()
	go func() { // nobody else reads the played counts here
		for {
			select {
			case <-leg.Played():
			case <-leg.Done():
				return
			}
		}
	}()
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

func askForConsultant(t *testing.T, r *rig) {
	t.Helper()
	r.waitSaid(t, "numer akt sprawy")
	r.leg.Press("12345678#02011980")
	r.waitSaid(t, "Informacje o zadłużeniu")
	r.leg.Press("0")
}

func outcome(t *testing.T, q *fakeQueue) string {
	t.Helper()
	select {
	case o := <-q.outcomes:
		return o
	case <-time.After(10 * time.Second):
		t.Fatal("queue record never finished")
		return ""
	}
}

func TestQueueTimeoutOffersACallback(t *testing.T) {
	q := &fakeQueue{outcomes: make(chan string, 4), release: make(chan struct{})}
	r := startQueued(t, q)
	askForConsultant(t, r)
	r.waitSaid(t, "Wszyscy konsultanci są teraz zajęci")
	if got := r.waitSaid(t, "miejsce w kolejce to"); !strings.Contains(got, "to jeden") && !strings.Contains(got, "to dwa") {
		t.Fatalf("position said as %q", got)
	}
	close(q.release)
	if got := outcome(t, q); got != "timeout" {
		t.Fatalf("outcome %q", got)
	}
	r.waitSaid(t, "nie udało się połączyć z konsultantem")
	r.waitSaid(t, "Opcja numer jeden")
	r.leg.Press("1")
	r.waitSaid(t, "Zadzwonimy do Pana lub Pani")
	if n := len(r.leg.Transfers()); n != 0 {
		t.Fatalf("Leg.Transfer used %d times with a queue", n)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.contexts) != 1 || q.contexts[0].CaseNumber != "12345678" || !q.contexts[0].Verified {
		t.Fatalf("transfer context %+v", q.contexts)
	}
}

// spyLeg reports the first sample of every frame played to it.
type spyLeg struct {
	*telephonytest.Leg
	got chan int16
}

func (l spyLeg) Play(ctx context.Context, src telephony.FrameSource) error {
	var f audio.Frame
	for {
		if err := src.ReadFrame(&f); err != nil {
			return err
		}
		select {
		case l.got <- f[0]:
		default:
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.Done():
			return telephony.ErrLegClosed
		default:
		}
	}
}

func TestQueueBridgesToTheConsultant(t *testing.T) {
	consultant := spyLeg{telephonytest.NewLeg(telephony.LegInfo{ID: "consultant", Type: "webrtc"}), make(chan int16, 64)}
	q := &fakeQueue{leg: consultant, back: make(chan struct{}), outcomes: make(chan string, 4), release: make(chan struct{})}
	close(q.release)
	r := startQueued(t, q)
	askForConsultant(t, r)
	// The caller's audio reaches the consultant's leg through the bridge.
	var f audio.Frame
	f[0] = 1234
	r.leg.SendAudio(f)
	select {
	case got := <-consultant.got:
		if got != 1234 {
			t.Fatalf("consultant heard %d", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("caller audio never reached the consultant")
	}
	consultant.CallerHangup() // the consultant hangs up: both end
	if err := r.waitEnd(t); err != nil {
		t.Fatal(err)
	}
	if got := r.leg.Cause(); got != telephony.CauseTransferred {
		t.Fatalf("caller cause %s", got)
	}
	if got := outcome(t, q); got != "transferred" {
		t.Fatalf("outcome %q", got)
	}
}

func TestQueueConsultantSendsCallerBack(t *testing.T) {
	consultant := telephonytest.NewLeg(telephony.LegInfo{ID: "consultant", Type: "webrtc"})
	q := &fakeQueue{leg: consultant, back: make(chan struct{}), outcomes: make(chan string, 4), release: make(chan struct{})}
	r := startQueued(t, q)
	askForConsultant(t, r)
	r.waitSaid(t, "miejsce w kolejce to")
	close(q.release)
	close(q.back)
	if got := outcome(t, q); got != "back" {
		t.Fatalf("outcome %q", got)
	}
	r.waitSaid(t, "Opcja numer jeden") // the callback offer
	select {
	case <-consultant.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("consultant leg still up")
	}
	if r.leg.Cause() != telephony.CauseNone {
		t.Fatalf("caller ended: %s", r.leg.Cause())
	}
}
