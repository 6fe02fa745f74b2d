package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"hotline/telephony/audio"
)

// Browser end-to-end tests drive Debian's Chromium through playwright-core
// (cmd/hotline/testdata/browser, installed by `npm ci` in .ci/run). Each
// one runs inside a private network namespace that has only loopback, so
// Chromium's ICE gathering cannot reach a real interface and every packet
// of the test stays on 127.0.0.1 (reference/telephony.md §5).

const (
	// envTestBinary passes the hotline binary built by TestMain to a test
	// re-run inside the namespace.
	envTestBinary = "HOTLINE_TEST_BINARY"
	// envInNetns marks the re-run.
	envInNetns = "HOTLINE_TEST_NETNS"
	// envArtifacts is where browser tests leave screenshots (CI keeps the
	// folder); default .ci/artifacts at the top of the repository.
	envArtifacts = "HOTLINE_ARTIFACTS"
)

// inPrivateNetwork reports whether the calling test should run its body
// now. Outside the namespace it re-runs just this test inside a new one
// (unshare -n, loopback up) and mirrors the outcome: the caller must then
// return. It skips (fails under HOTLINE_E2E=1) where namespaces, node,
// Chromium or playwright-core are missing.
func inPrivateNetwork(t *testing.T) bool {
	t.Helper()
	needBrowser(t)
	if os.Getenv(envInNetns) == "1" {
		return true
	}
	unshare := needTool(t, "unshare")
	if os.Geteuid() != 0 {
		skipOrFail(t, "browser tests need root for a private network namespace (unshare -n)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	args := []string{"-n", "--", "sh", "-c", `ip link set lo up && exec "$@"`, "sh",
		os.Args[0], "-test.run", "^" + t.Name() + "$", "-test.count=1", "-test.v", "-test.timeout=7m"}
	cmd := exec.CommandContext(ctx, unshare, args...)
	cmd.Env = append(os.Environ(), envInNetns+"=1", envTestBinary+"="+binary, envArtifacts+"="+artifactsDir(t))
	out, err := cmd.CombinedOutput()
	text := string(out)
	switch {
	case strings.Contains(text, "--- SKIP: "+t.Name()):
		t.Skipf("inside the namespace:\n%s", tail(text, 4000))
	case err != nil || !strings.Contains(text, "--- PASS: "+t.Name()):
		t.Fatalf("inside a private network namespace: %v\n%s", err, tail(text, 12000))
	default:
		t.Logf("passed inside a private network namespace:\n%s", tail(text, 600))
	}
	return false
}

// needBrowser checks for node, Chromium and playwright-core.
func needBrowser(t *testing.T) {
	t.Helper()
	needTool(t, "node")
	if _, err := os.Stat(chromiumPath); err != nil {
		skipOrFail(t, chromiumPath+" not installed (apt-get install chromium)")
	}
	if _, err := os.Stat(filepath.Join(browserDir(t), "node_modules", "playwright-core")); err != nil {
		skipOrFail(t, "playwright-core not installed (cd cmd/hotline/testdata/browser && npm ci)")
	}
}

const chromiumPath = "/usr/bin/chromium"

func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("HOTLINE_E2E") == "1" {
		t.Fatalf("%s (required with HOTLINE_E2E=1)", why)
	}
	t.Skip(why)
}

// browserDir is cmd/hotline/testdata/browser.
func browserDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("testdata", "browser"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// artifactsDir is where screenshots go (created if missing).
func artifactsDir(t *testing.T) string {
	t.Helper()
	d := os.Getenv(envArtifacts)
	if d == "" {
		_, file, _, _ := runtime.Caller(0)
		d = filepath.Join(filepath.Dir(file), "..", "..", ".ci", "artifacts")
	}
	d, err := filepath.Abs(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// browserRun is one Playwright script's outcome: its final RESULT line
// and its whole output for failure messages.
type browserRun struct {
	Result map[string]any
	Output string
}

// runBrowser runs testdata/browser/<script> with node. The script gets
// env (plus CHROMIUM, ARTIFACTS and FAKE_AUDIO if given in env) and must
// print one line `RESULT <json>` before exiting 0. Lines it prints while
// running are passed to onLine (may be nil), so a test can act while the
// browser is mid-call (e.g. place a SIP call once the console is ready).
func runBrowser(ctx context.Context, t *testing.T, script string, env map[string]string, onLine func(string)) browserRun {
	t.Helper()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = browserDir(t)
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromiumPath, "ARTIFACTS="+artifactsDir(t))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var run browserRun
	var all strings.Builder
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		all.WriteString(line + "\n")
		if rest, ok := strings.CutPrefix(line, "RESULT "); ok {
			if err := json.Unmarshal([]byte(rest), &run.Result); err != nil {
				t.Errorf("%s: bad RESULT line: %v", script, err)
			}
			continue
		}
		if onLine != nil {
			onLine(line)
		}
	}
	werr := cmd.Wait()
	run.Output = all.String() + "--- stderr ---\n" + tail(stderr.String(), 6000)
	if werr != nil || run.Result == nil {
		t.Fatalf("%s: %v\n%s", script, werr, run.Output)
	}
	return run
}

// fakeMicrophone writes a WAV for Chromium's fake audio capture: a
// steady tone the server can recognise in what it decodes.
func fakeMicrophone(t *testing.T, hz float64, seconds int) string {
	t.Helper()
	const rate = 8000
	pcm := make([]int16, rate*seconds)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/rate))
	}
	path := filepath.Join(t.TempDir(), "mic.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := audio.WriteWAV(f, pcm, rate, 1); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBrowserHarness proves the harness: Chromium inside the namespace
// loads the running service's health page and the script reports back.
func TestBrowserHarness(t *testing.T) {
	if !inPrivateNetwork(t) {
		return
	}
	s := startServe(t)
	resp, err := http.Get("http://" + s.http + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := runBrowser(ctx, t, "smoke.mjs", map[string]string{"URL": "http://" + s.http + "/healthz"}, nil)
	if got := run.Result["body"]; !strings.Contains(got.(string), `"ok"`) {
		t.Fatalf("browser saw %v\n%s", got, run.Output)
	}
}
