package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"hotline/assistant/redistest"
)

// binary is the hotline command built once for these tests: they drive
// it exactly as a user does, through its arguments, stdin and stdout.
var binary string

func TestMain(m *testing.M) {
	// A test re-run inside a private network namespace (browser tests,
	// see inPrivateNetwork) reuses the binary its parent built.
	if b := os.Getenv(envTestBinary); b != "" {
		binary = b
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "hotline-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "hotline")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build hotline: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// alwaysOpen makes consultants and callback slots available at any hour,
// so the transfer and callback paths do not depend on when tests run.
const alwaysOpen = `
consultants:
  hours: "mon-sun 00:00-24:00; hol 00:00-24:00"
callbacks:
  hours: "mon-sun 00:00-24:00; hol 00:00-24:00"
`

type result struct {
	code           int
	stdout, stderr string
}

func runHotline(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{code, out.String(), errb.String()}
}

// cleanEnv drops HOTLINE_* variables of the developer's shell.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOTLINE_") {
			env = append(env, kv)
		}
	}
	return env
}

func configFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hotline.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func botLines(out string) []string {
	var ls []string
	for _, l := range strings.Split(out, "\n") {
		if l != "" {
			ls = append(ls, l)
		}
	}
	return ls
}

func TestChatMenuPaths(t *testing.T) {
	cfg := configFile(t, alwaysOpen)
	tests := []struct {
		name    string
		input   string
		want    []string // exact substrings, in this order
		notWant []string
	}{
		{
			name:  "debt of the main demo case",
			input: "12345678#\n02011980\n1\n",
			want: []string{
				"bot: Dzień dobry, tu Alektum.",
				"wirtualnym asystentem",
				"nagrywana",
				"tysiąc czterysta dziewięćdziesiąt dziewięć złotych siedemdziesiąt osiem groszy",
				"tysiąc dwieście trzydzieści cztery złote pięćdziesiąt sześć groszy",
				"dwieście dziesięć złotych dwadzieścia dwa grosze",
				"pięćdziesiąt pięć złotych",
				"Bank Przykładowy S.A.",
			},
		},
		{
			name:  "payments: account, last payment, next instalment",
			input: "12345678#\n02011980\n2\n",
			want: []string{
				"jeden dwa, jeden zero dziewięć zero, jeden zero jeden cztery, zero zero zero zero, zero siedem jeden dwa, jeden dziewięć osiem jeden, dwa osiem siedem cztery",
				"piętnastego października dwa tysiące dwudziestego szóstego roku",
				"pięćset złotych",
				"piętnastego grudnia dwa tysiące dwudziestego szóstego roku",
				"dwieście pięćdziesiąt złotych",
			},
		},
		{
			name:    "singular forms",
			input:   "11111111#\n15051975\n1\n2\n",
			want:    []string{"jeden złoty jeden grosz", "dwa złote"},
			notWant: []string{"jeden złotych"},
		},
		{
			name:  "thousands, no payments on record",
			input: "55555555#\n20071965\n1\n2\n",
			want:  []string{"siedemnaście tysięcy złotych pięć groszy", "pięć tysięcy złotych", "dwanaście tysięcy złotych"},
		},
		{
			name:  "tens and a leap-day birth date",
			input: "21212121#\n29022000\n1\n2\n",
			want: []string{"dwadzieścia dwa tysiące jeden złotych", "dwadzieścia jeden tysięcy złotych",
				"drugiego listopada dwa tysiące dwudziestego szóstego roku",
				"piątego stycznia dwa tysiące dwudziestego siódmego roku", "tysiąc dwadzieścia dwa złote"},
		},
		{
			name:  "callback: first slot offered",
			input: "12345678#\n02011980\n3\n1\n",
			want:  []string{"[callback ", "case=12345678]"},
		},
		{
			name:  "complaints and contact information",
			input: "12345678#\n02011980\n4\n",
			want:  []string{"trzydziestu dni", "Komisji Etyki Związku Przedsiębiorstw Finansowych", "rzecznika konsumentów", "Rzecznika Finansowego"},
		},
		{
			name:  "consultant by keypad",
			input: "12345678#\n02011980\n1\n0\n",
			want:  []string{"[transfer reason=caller_request case=12345678 verified=tak disclosures=5]"},
		},
		{
			name:  "consultant by speech before verification discloses nothing",
			input: "poproszę z konsultantem\n",
			want:  []string{"[transfer reason=caller_request case=- verified=nie disclosures=0]"},
		},
		{
			name:  "goodbye by speech",
			input: "12345678#\n02011980\ndziękuję, to wszystko\n",
			want:  []string{"[hangup reason=caller_done]"},
		},
		{
			name:    "wrong birth date three times discloses nothing",
			input:   "12345678#\n01011990\n12345678#\n01011990\n12345678#\n01011990\n2\n",
			want:    []string{"[hangup "},
			notWant: []string{"złot", "Bank", "rachunek"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runHotline(t, nil, tt.input, "chat", "--config", cfg)
			if r.code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			for _, l := range botLines(r.stdout) {
				if !strings.HasPrefix(l, "bot: ") && !strings.HasPrefix(l, "[") {
					t.Errorf("line is neither bot: nor an [action]: %q", l)
				}
			}
			rest := r.stdout
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q (in order)\n%s", w, r.stdout)
				}
				rest = rest[i+len(w):]
			}
			for _, nw := range tt.notWant {
				if strings.Contains(r.stdout, nw) {
					t.Errorf("output contains %q\n%s", nw, r.stdout)
				}
			}
		})
	}
}

func TestChatCallbackSlotInWords(t *testing.T) {
	r := runHotline(t, nil, "12345678#\n02011980\n3\n1\n", "chat", "--config", configFile(t, alwaysOpen))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	// The confirmation speaks the slot as a genitive date and a time.
	re := regexp.MustCompile(`(?m)^bot: .*(stycznia|lutego|marca|kwietnia|maja|czerwca|lipca|sierpnia|września|października|listopada|grudnia) dwa tysiące .* roku o godzinie \p{L}+`)
	if !re.MatchString(r.stdout) {
		t.Fatalf("no slot in words:\n%s", r.stdout)
	}
	if !regexp.MustCompile(`\[callback \d{4}-\d{2}-\d{2} \d{2}:\d{2} \S+ case=12345678\]`).MatchString(r.stdout) {
		t.Fatalf("no [callback …] action:\n%s", r.stdout)
	}
}

func TestChatWithCaseFile(t *testing.T) {
	csv := filepath.Join(t.TempDir(), "cases.csv")
	body := "case_number,debtor_name,birth_date,phone,creditor,principal,interest,fees,bank_account,last_payment_date,last_payment_amount,next_installment_date,next_installment_amount\n" +
		"987654,Ewa Zielińska,1985-03-15,+48601202303,Pożyczki Testowe,2.00,0.00,0.00,61109010140000071219812874,,,,\n"
	if err := os.WriteFile(csv, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runHotline(t, nil, "987654#\n15031985\n1\n", "chat", "--cases", csv)
	if r.code != 0 || !strings.Contains(r.stdout, "dwa złote") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestCasesImportBadInput(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "bad.csv")
	body := "case_number,debtor_name,birth_date,phone,creditor,principal,interest,fees,bank_account,last_payment_date,last_payment_amount,next_installment_date,next_installment_amount\n" +
		"987654,Ewa Zielińska,1985-03-15,+48601202303,Pożyczki Testowe,2.00,0.00,0.00,61109010140000071219812874,,,,\n" +
		"987655,Adam Nowy,1985-02-30,+48601202304,Pożyczki Testowe,\"12,50\",0.00,0.00,61109010140000071219812874,,,,\n"
	if err := os.WriteFile(csv, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runHotline(t, nil, "", "cases", "import", csv)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\n%s", r.code, r.stderr)
	}
	for _, w := range []string{"bad.csv:3: birth_date", "bad.csv:3: principal"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	if r := runHotline(t, nil, "", "frobnicate"); r.code != 2 || !strings.Contains(r.stderr, "unknown command") {
		t.Fatalf("bad usage: exit %d %s", r.code, r.stderr)
	}
	if r := runHotline(t, []string{"HOTLINE_DIALOG_MAX_ATTEMPTS=zero"}, "", "chat"); r.code != 2 || !strings.Contains(r.stderr, "dialog.max_attempts") {
		t.Fatalf("bad config: exit %d %s", r.code, r.stderr)
	}
}

// TestImportThenChatOnRealRedis: the operator imports cases into a real
// Redis and a conversation runs against it.
func TestImportThenChatOnRealRedis(t *testing.T) {
	_, prefix := redistest.Real(t)
	env := []string{"HOTLINE_REDIS_URL=redis://127.0.0.1:6379/0", "HOTLINE_REDIS_PREFIX=" + prefix}
	r := runHotline(t, env, "", "cases", "import", "../../configs/demo-cases.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, "imported 5 cases") {
		t.Fatalf("import: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = runHotline(t, env, "22222222#\n31121990\n1\n", "chat")
	if r.code != 0 || !strings.Contains(r.stdout, "trzydzieści dziewięć złotych") {
		t.Fatalf("chat: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "EMBEDDED") {
		t.Fatal("used the embedded store despite HOTLINE_REDIS_URL")
	}
}

// TestServeHealthAndGracefulStop starts `hotline serve` on embedded
// defaults (port 0), checks /healthz and /readyz, and stops it with SIGTERM.
func TestServeHealthAndGracefulStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary)
	cmd.Env = append(cleanEnv(), "HOTLINE_HTTP_LISTEN=127.0.0.1:0", "HOTLINE_SIP_LISTEN=127.0.0.1:0",
		"HOTLINE_API_TOKENS=serve-test-token-0123")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`msg="http listening" addr=(\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-ctx.Done():
		t.Fatal("serve did not report its address")
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s = %d %s", path, resp.StatusCode, b)
		}
	}
	for tok, want := range map[string]int{"": http.StatusUnauthorized, "serve-test-token-0123": http.StatusOK} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/calls", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("/api/v1/calls with token %q = %d, want %d", tok, resp.StatusCode, want)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v", err)
	}
}
