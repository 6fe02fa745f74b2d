package main

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"hotline/assistant/redistest"
	"hotline/assistant/session"
)

// TestChatSurvivesARedisOutage drives `hotline chat` on a redis-server the
// test owns (AOF on, as in production): the caller verifies, the server
// dies, the caller asks for the debt and hears that the data cannot be
// reached with a consultant, a callback or another try on offer; the
// server comes back, "try again" returns to the menu, the debt is told,
// and the stored session holds the whole conversation.
func TestChatSurvivesARedisOutage(t *testing.T) {
	srv := redistest.StartServer(t, "--appendonly", "yes", "--appendfsync", "always")
	env := []string{"HOTLINE_REDIS_URL=" + srv.URL(), "HOTLINE_REDIS_PREFIX=hotline:"}
	if r := runHotline(t, env, "", "cases", "import", "../../configs/demo-cases.yaml"); r.code != 0 {
		t.Fatalf("import: exit %d\n%s", r.code, r.stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "chat", "--config", configFile(t, alwaysOpen))
	cmd.Env = append(cleanEnv(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuf{}
	cmd.Stderr = writerFunc(func(p []byte) { logs.add(strings.TrimRight(string(p), "\n")) })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := &logBuf{}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.add(sc.Text())
		}
	}()
	// say types a line and waits for want in what the bot says next.
	say := func(line, want string) time.Duration {
		t.Helper()
		before := len(out.String())
		start := time.Now()
		if _, err := io.WriteString(stdin, line+"\n"); err != nil {
			t.Fatal(err)
		}
		poll(t, 20*time.Second, want+" after "+line, func() bool { return strings.Contains(out.String()[before:], want) })
		return time.Since(start)
	}
	poll(t, 10*time.Second, "the greeting", func() bool { return strings.Contains(out.String(), "numer akt sprawy") })
	say("12345678#", "datę urodzenia")
	say("02011980", "Informacje o zadłużeniu")

	srv.Kill()
	took := say("1", "nie mam dostępu do danych")
	t.Logf("the outage turn took %v", took)
	if !strings.Contains(out.String(), "rozmowę zwrotną") {
		t.Errorf("no callback offered:\n%s", out)
	}
	say("5", "Aby spróbować ponownie") // still down: re-prompted from memory

	srv.Start()
	say("1", "Informacje o zadłużeniu")
	say("1", "tysiąc czterysta dziewięćdziesiąt dziewięć złotych")
	_ = stdin.Close()
	<-readDone
	if err := cmd.Wait(); err != nil {
		t.Fatalf("chat: %v\n%s\n%s", err, out, logs)
	}
	if !strings.Contains(logs.String(), "kept in memory") {
		t.Errorf("the outage was not logged:\n%s", logs)
	}

	ss, err := session.NewStore(srv.Client(), "hotline:", time.Hour).List(context.Background(), 10)
	if err != nil || len(ss) != 1 {
		t.Fatalf("stored sessions: %v %d", err, len(ss))
	}
	full, err := session.NewStore(srv.Client(), "hotline:", time.Hour).LoadFull(context.Background(), ss[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var tr strings.Builder
	for _, l := range full.Transcript {
		tr.WriteString(l.Who + ": " + l.Text + "\n")
	}
	for _, want := range []string{"[klawiatura] 5", "nie mam dostępu do danych", "tysiąc czterysta"} {
		if !strings.Contains(tr.String(), want) {
			t.Errorf("stored transcript lacks %q:\n%s", want, tr.String())
		}
	}
	if !full.Ended() {
		t.Errorf("stored session not ended: %+v", full.Dialog)
	}
}

// writerFunc adapts a function to io.Writer.
type writerFunc func(p []byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

// TestSIPCallSurvivesARedisOutage: a debtor calls `hotline serve` (sipp)
// and verifies; the test's redis-server dies; the debtor presses 1 for
// the debt and hears that the data cannot be reached, with a consultant,
// a callback or another try on offer; the server comes back, the debtor
// presses 1 (try again) and 1 (the debt) and hears it. The call's record,
// read through the API afterwards, holds all of it.
func TestSIPCallSurvivesARedisOutage(t *testing.T) {
	needTool(t, "sipp")
	t.Parallel() // its own redis-server and instance
	srv := redistest.StartServer(t, "--appendonly", "yes", "--appendfsync", "always")
	env := []string{"HOTLINE_REDIS_URL=" + srv.URL(), "HOTLINE_REDIS_PREFIX=hotline:"}
	if r := runHotline(t, env, "", "cases", "import", "../../configs/demo-cases.yaml"); r.code != 0 {
		t.Fatalf("import: exit %d\n%s", r.code, r.stderr)
	}
	in := startInstance(t, append(env, "HOTLINE_LOG_LEVEL=debug")...)
	body := pause(noticesPlay) + rfc4733Keys("12345678#02011980") + pause(9*time.Second) + // verified; the menu plays
		rfc4733Keys("1") + pause(12*time.Second) + // Redis is down: the apology and the options
		rfc4733Keys("1") + pause(4*time.Second) + // Redis is back: try again → the menu
		rfc4733Keys("1") + pause(listenToDebt) // the debt
	call := startSipp(t, in.sip, callerScenario(t, body, 2), "-rtp_echo")

	verified := regexp.MustCompile(`msg=turn .*phase=menu`)
	poll(t, noticesPlay+30*time.Second, "the caller to verify", func() bool { return verified.MatchString(in.logs.String()) })
	srv.Kill()
	poll(t, 20*time.Second, "the outage turn", func() bool { return strings.Contains(in.logs.String(), "case data unreachable") })
	srv.Start()
	if err := <-call; err != nil {
		t.Fatalf("%v\n%s", err, in.logs)
	}
	poll(t, 15*time.Second, "the call to end", func() bool { return len(in.calls(t, "ended")) == 1 })
	c := in.calls(t, "ended")[0]
	var said strings.Builder
	for _, l := range c.Transcript {
		said.WriteString(l.Who + ": " + l.Text + "\n")
	}
	order := []string{"Tożsamość została potwierdzona", "nie mam dostępu do danych", "rozmowę zwrotną",
		"Informacje o zadłużeniu", "tysiąc czterysta dziewięćdziesiąt dziewięć złotych"}
	rest := said.String()
	for _, w := range order {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("transcript lacks %q (in order):\n%s", w, said.String())
		}
		rest = rest[i+len(w):]
	}
	if c.Termination != "caller_hung_up" || c.Verification != "verified" {
		t.Errorf("call = %+v", c)
	}
}
