package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// demoSecrets are the main demo case's personal data in every shape a
// log line could carry them (configs/demo-cases.yaml, case 12345678).
var demoSecrets = []string{
	"12345678",                                         // case number
	"02011980", "1980-01-02", "02.01.1980", "1980-1-2", // date of birth
	"Jan Kowalski", "Kowalski", // name
	"+48600100200", "48600100200", "600100200", // phone
	"1499.78", "149978", "1234.56", "123456", "210.22", // balance, principal, interest
	"1 499,78", "1499,78", // … as a Pole writes them
	"12 1090 1014 0000 0712 1981 2874", "0712 1981 2874", // bank account
	"12109010140000071219812874",
}

// demoPhone is the caller id the masking calls present: the demo
// debtor's own number.
const demoPhone = "+48600100200"

// checkNoSecrets fails if a log holds any of the demo case's values, and
// if it does not hold want (proof that the events were logged at all).
func checkNoSecrets(t *testing.T, logs string, want ...string) {
	t.Helper()
	for _, s := range demoSecrets {
		if i := strings.Index(logs, s); i >= 0 {
			t.Errorf("the log contains %q: …%s…", s, logs[max(0, i-200):min(len(logs), i+100)])
		}
	}
	for _, w := range want {
		if !strings.Contains(logs, w) {
			t.Errorf("the log lacks %q:\n%s", w, logs)
		}
	}
}

// TestLogsOfAFullSIPCallHoldNoPII: the demo debtor calls from their own
// number, keys the case number and date of birth, hears the debt and the
// payment details; with log.level debug, in text and in JSON, the
// process's whole log holds none of the case's values.
func TestLogsOfAFullSIPCallHoldNoPII(t *testing.T) {
	needTool(t, "sipp")
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			in := startInstance(t, "HOTLINE_LOG_LEVEL=debug", "HOTLINE_LOG_FORMAT="+format,
				"HOTLINE_CALLBACKS_HOURS=mon-sun 00:00-24:00; hol 00:00-24:00")
			// debt (1), payments (2), then a callback in the first slot (3, 1).
			body := pause(noticesPlay) + rfc4733Keys(debtorKeys) + pause(listenToDebt) + rfc4733Keys("2") + pause(listenToDebt) +
				rfc4733Keys("31") + pause(5*time.Second)
			runSipp(t, in.served, fromDemoPhone(t, callerScenario(t, body, 2)), "-rtp_echo")
			poll(t, 15*time.Second, "the call to end", func() bool { return len(in.calls(t, "ended")) == 1 })
			c := in.calls(t, "ended")[0]
			if c.Verification != "verified" || len(c.Disclosures) < 3 {
				t.Fatalf("the call did not reach the case data: %+v", c)
			}
			stopInstance(t, in)
			masked, debug := `from=***200`, `level=DEBUG`
			if format == "json" {
				masked, debug = `"from":"***200"`, `"level":"DEBUG"`
			}
			checkNoSecrets(t, in.logs.String(), masked, debug, "call_id")
		})
	}
}

// TestLogsOfAChatHoldNoPII: the chat mode (an engine-only call) at debug.
func TestLogsOfAChatHoldNoPII(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			r := runHotline(t, []string{"HOTLINE_LOG_LEVEL=debug", "HOTLINE_LOG_FORMAT=" + format},
				"12345678#\n02011980\n1\n2\n3\n1\n", "chat", "--config", configFile(t, alwaysOpen))
			if r.code != 0 || !strings.Contains(r.stdout, "[callback ") {
				t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			checkNoSecrets(t, r.stderr, "turn")
		})
	}
}

// fromDemoPhone rewrites a caller scenario so the INVITE comes from the
// demo debtor's phone number.
func fromDemoPhone(t *testing.T, scenario string) string {
	t.Helper()
	b, err := os.ReadFile(scenario)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "from-debtor.xml")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(b), "+48221234567", demoPhone)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// stopInstance stops a served instance with SIGTERM and waits, so its log
// is complete.
func stopInstance(t *testing.T, in *instance) {
	t.Helper()
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := in.wait(t, 20*time.Second); err != nil {
		t.Fatalf("exit: %v\n%s", err, in.logs)
	}
}
