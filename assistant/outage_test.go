package assistant_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"

	"hotline/assistant"
	"hotline/assistant/assistanttest"
	"hotline/assistant/redistest"
	"hotline/dialogs"
)

func TestIsOutage(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{context.Canceled, false},
		{fmt.Errorf("load: %w", redis.Nil), false},
		{errors.New("session: conflict"), false},
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{fmt.Errorf("verify: %w", syscall.ECONNRESET), true},
		{fmt.Errorf("cases: %w", io.EOF), true},
		{fmt.Errorf("x: %w", redis.ErrPoolTimeout), true},
		{fmt.Errorf("x: %w", assistant.ErrOutage), true},
	}
	for _, tt := range tests {
		if got := assistant.IsOutage(tt.err); got != tt.want {
			t.Errorf("IsOutage(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	// A server that is up but still loading its data.
	srv := redistest.StartServer(t, "--enable-debug-command", "yes")
	err := srv.Client().Do(context.Background(), "DEBUG", "ERROR", "LOADING Redis is loading the dataset in memory").Err()
	if !assistant.IsOutage(err) {
		t.Errorf("IsOutage(%v) = false", err)
	}
}

// durable makes the test's redis-server come back with its data, as a
// production one does (AOF, every write fsynced).
var durable = []string{"--appendonly", "yes", "--appendfsync", "always"}

func said(tr assistant.Turn) string { return strings.Join(tr.Lines, "\n") }

// TestRedisOutageMidCall: a verified caller is in the menu when the
// redis-server dies. Asking for the debt, they hear that the data cannot
// be reached and are offered a consultant, a callback or another try;
// the call goes on from memory. When the server is back, "try again"
// returns to the menu, the debt is told, and the session in Redis holds
// the whole conversation, outage included.
func TestRedisOutageMidCall(t *testing.T) {
	srv := redistest.StartServer(t, durable...)
	rdb := srv.Client()
	r := assistanttest.New(t, rdb, "hotline:", assistanttest.Options{})
	ctx := context.Background()
	const call = "call-outage"
	if _, err := r.Engine.Start(ctx, assistant.Call{ID: call, Direction: "inbound", Leg: "sip"}); err != nil {
		t.Fatal(err)
	}
	turn := func(in dialogs.Input) assistant.Turn {
		t.Helper()
		tr, err := r.Engine.Handle(ctx, call, in)
		if err != nil {
			t.Fatalf("turn %+v: %v", in, err)
		}
		return tr
	}
	turn(keys("12345678#"))
	if v := turn(keys("02011980")); !strings.Contains(said(v), "zero") {
		t.Fatalf("not in the menu after verifying: %s", said(v))
	}

	srv.Kill()
	down := turn(keys("1"))
	if !strings.Contains(said(down), "nie mam dostępu do danych") ||
		!strings.Contains(said(down), "konsultantem") || !strings.Contains(said(down), "rozmowę zwrotną") {
		t.Fatalf("outage reply: %s", said(down))
	}
	if len(down.Reply.Disclosures) != 0 || down.Ended || down.Reply.Expect.Kind != dialogs.ExpectMenu {
		t.Fatalf("outage turn: %+v", down)
	}
	// Still down: an unknown key is re-prompted from memory.
	again := turn(keys("7"))
	if !strings.Contains(said(again), "Aby spróbować ponownie") {
		t.Fatalf("re-prompt during the outage: %s", said(again))
	}
	if n := r.Engine.Degraded(); n != 1 {
		t.Fatalf("Degraded() = %d, want 1", n)
	}

	srv.Start()
	back := turn(keys("1")) // try again: back to the menu
	if !strings.Contains(said(back), "Informacje o zadłużeniu") {
		t.Fatalf("after recovery: %s", said(back))
	}
	if n := r.Engine.Degraded(); n != 0 {
		t.Fatalf("Degraded() = %d after recovery", n)
	}
	debt := turn(keys("1"))
	if !strings.Contains(said(debt), "tysiąc czterysta dziewięćdziesiąt dziewięć złotych") || len(debt.Reply.Disclosures) == 0 {
		t.Fatalf("debt after recovery: %s", said(debt))
	}
	s, err := r.Sessions.LoadFull(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	var transcript strings.Builder
	for _, l := range s.Transcript {
		transcript.WriteString(l.Who + ": " + l.Text + "\n")
	}
	for _, want := range []string{"[klawiatura] 7", "nie mam dostępu do danych", "Informacje o zadłużeniu", "tysiąc czterysta"} {
		if !strings.Contains(transcript.String(), want) {
			t.Errorf("stored transcript lacks %q:\n%s", want, transcript.String())
		}
	}
	if !s.Dialog.Verified || s.Dialog.Phase != dialogs.PhaseMenu {
		t.Errorf("stored state = %+v", s.Dialog)
	}
}

// TestRedisOutageTransferAndEnd: during an outage an unverified caller's
// verification cannot run; they ask for a consultant and are transferred
// (no Redis needed), the call ends while Redis is still down, and its
// end reaches Redis once the server is back.
func TestRedisOutageTransferAndEnd(t *testing.T) {
	srv := redistest.StartServer(t, durable...)
	rdb := srv.Client()
	r := assistanttest.New(t, rdb, "hotline:", assistanttest.Options{})
	ctx := context.Background()
	const call, other = "call-transfer", "call-other"
	for _, id := range []string{call, other} {
		if _, err := r.Engine.Start(ctx, assistant.Call{ID: id, Direction: "inbound", Leg: "sip"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Engine.Handle(ctx, call, keys("12345678#")); err != nil {
		t.Fatal(err)
	}

	srv.Kill()
	down, err := r.Engine.Handle(ctx, call, keys("02011980"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(said(down), "nie mam dostępu do danych") || strings.Contains(said(down), "rozmowę zwrotną") {
		t.Fatalf("unverified outage reply: %s", said(down))
	}
	tr, err := r.Engine.Handle(ctx, call, keys("0"))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Reply.Action.Kind != dialogs.ActionTransfer || tr.Transfer == nil || tr.Transfer.Verified ||
		tr.Transfer.Reason != dialogs.ReasonDataOutage || tr.Transfer.CaseNumber != "" {
		t.Fatalf("transfer during the outage: %+v %+v", tr.Reply.Action, tr.Transfer)
	}
	if err := r.Engine.Finish(ctx, call, "transferred"); err != nil {
		t.Fatalf("finish during the outage: %v", err)
	}

	srv.Start()
	// Another call's turn reaches Redis and writes the ended call too.
	if _, err := r.Engine.Handle(ctx, other, keys("12345678#")); err != nil {
		t.Fatal(err)
	}
	if n := r.Engine.Degraded(); n != 0 {
		t.Fatalf("Degraded() = %d after recovery", n)
	}
	s, err := r.Sessions.LoadFull(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Ended() || s.Termination != "transferred:"+dialogs.ReasonDataOutage {
		t.Fatalf("stored call: ended %v termination %q", s.Ended(), s.Termination)
	}
}
