package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hotline/assistant/session"
	"hotline/telephony/audio"
)

// TestBaresipCallerKeysIn: baresip (a strict SDP parser) calls `hotline
// serve`, keys the case number, date of birth and "1" as RFC 4733 events
// from its console, and hears the debt: the session says so, and
// baresip's dump of what it received holds the bot's speech.
func TestBaresipCallerKeysIn(t *testing.T) {
	t.Parallel()
	bin := needTool(t, "baresip")
	s := startServe(t)
	dir := t.TempDir()
	dump := filepath.Join(dir, "dump")
	if err := os.MkdirAll(dump, 0o755); err != nil {
		t.Fatal(err)
	}
	// baresip's aufile source ends the call when the file ends: 100 s of
	// near-silence keeps it on the line.
	src := filepath.Join(dir, "silence.wav")
	if err := os.WriteFile(src, audio.EncodeWAV(audio.Tone(300, -60, 100*8000, 8000), 8000, 1), 0o600); err != nil {
		t.Fatal(err)
	}
	sipPort, consPort := freeUDPPort(t), freeUDPPort(t)
	config := fmt.Sprintf(`sip_listen 127.0.0.1:%d
net_interface 127.0.0.1
audio_source aufile,%s
audio_player aufile,%s
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module sndfile.so
module cons.so
module_tmp account.so
module_app menu.so
cons_listen 127.0.0.1:%d
snd_path %s
rtp_ports 40000-40100
`, sipPort, src, filepath.Join(dir, "play.wav"), consPort, dump)
	for name, body := range map[string]string{
		"config":   config,
		"accounts": "<sip:caller@127.0.0.1>;regint=0;audio_codecs=PCMU\n",
		"contacts": "",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-f", dir, "-e", "/dial sip:hotline@"+s.sip)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cancel(); <-exited })
	cons, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(consPort))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	// Wait until the assistant has answered and asked for the case number.
	waitFor(t, 20*time.Second, func() bool {
		cs := s.calls(t, "live")
		return len(cs) == 1 && len(cs[0].Transcript) >= 4
	}, "the call to be answered")
	// The caller keys while the notices play (no key interrupts them): the
	// keys wait for the case number question. baresip ends a digit only
	// when the next key comes: one trailing key.
	for _, k := range debtorKeys + "*" {
		if _, err := cons.Write([]byte{byte(k)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(250 * time.Millisecond) // key pacing of a person on a keypad
	}
	waitFor(t, noticesPlay+30*time.Second, func() bool {
		cs := s.calls(t, "live")
		return len(cs) == 1 && strings.Contains(transcriptText(cs[0].Transcript), "Wierzycielem jest")
	}, "the debt report")
	// The caller listens to the report (a person's pace, not synchronisation),
	// then hangs up.
	time.Sleep(12 * time.Second)
	if _, err := cons.Write([]byte("b")); err != nil {
		t.Fatal(err)
	}
	call := s.waitEnded(t)
	checkDebtCall(t, call)
	// Quit baresip cleanly ("q" on its console) so that sndfile finishes
	// its WAV files; a killed baresip may leave them empty.
	if _, err := cons.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		cancel()
		<-exited
	}
	// What baresip received from the bot: dump-*-dec.wav.
	decs, _ := filepath.Glob(filepath.Join(dump, "*dec.wav"))
	if len(decs) != 1 {
		t.Fatalf("baresip dumps: %v\n%s", decs, out.String())
	}
	f, err := os.Open(decs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, rate, err := audio.ReadWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Duration(len(pcm)) * time.Second / time.Duration(rate); d < 10*time.Second || audio.DBFS(audio.RMS(pcm)) < -40 {
		t.Fatalf("baresip received %v of audio at %.1f dBFS", d, audio.DBFS(audio.RMS(pcm)))
	}
}

func transcriptText(ls []session.Line) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.Text + "\n")
	}
	return b.String()
}

// waitFor polls cond (a real peer's progress) until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
