package outbound

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"hotline/assistant/redistest"
	"hotline/telephony"
	"hotline/telephony/sipgw"
)

// startSippUAS runs one sipp callee with scenario on a free port and
// returns the port and a channel with sipp's exit. Skips without sipp
// unless HOTLINE_E2E=1.
func startSippUAS(ctx context.Context, t *testing.T, scenario string) (int, <-chan error, *bytes.Buffer) {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		if redistest.E2E() {
			t.Fatal("sipp not installed (HOTLINE_E2E=1)")
		}
		t.Skip("sipp not installed; set HOTLINE_E2E=1 to make this a failure")
	}
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	_ = c.Close()
	sf, err := filepath.Abs(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, "-sf", sf, "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mi", "127.0.0.1", "-m", "1", "-nostdin", "-timeout", "20", "-timeout_error",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"))
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Wait until sipp has bound its port.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			break
		}
		_ = c.Close()
		select {
		case err := <-exited:
			t.Fatalf("sipp exited early: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("sipp did not bind its port")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return port, exited, &out
}

// startSIP serves a sipgw.Server on loopback for outbound dials.
func startSIP(t *testing.T) *sipgw.Server {
	t.Helper()
	srv, err := sipgw.New(sipgw.Config{Listen: "127.0.0.1:0", RTPPortMin: 41000, RTPPortMax: 41998, DrainTimeout: 2 * time.Second},
		telephony.HandlerFunc(func(context.Context, telephony.Leg) error { return nil }), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-errc:
		t.Fatalf("Serve: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("sip not ready")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv
}

// TestSippDialerRealPeer dials a real SIP callee (sipp) through
// telephony/sipgw: an answering phone reaches the Runner and is hung up
// after it (sipp sees our BYE); a busy one is retried later.
func TestSippDialerRealPeer(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		want     Outcome
		status   string
	}{
		{"uas_answer.xml", OutcomeRightParty, StatusDone},
		{"uas_busy.xml", OutcomeBusy, StatusRetry},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			port, exited, out := startSippUAS(ctx, t, tc.scenario)
			sip := startSIP(t)
			var codec string
			runner := runnerFunc(func(ctx context.Context, leg telephony.Leg, j Job) (Outcome, error) {
				codec = leg.Info().Codec
				return OutcomeRightParty, nil
			})
			r := newRig(t, runner, WorkerConfig{Target: "sip:{phone}@127.0.0.1:" + strconv.Itoa(port), RingTimeout: 10 * time.Second})
			r.w.d.Dialer = sip
			j := r.enqueue(Job{CaseNumber: "777"})
			r.step()
			got := r.job(j.ID)
			if got.Outcome != tc.want || got.Status != tc.status {
				t.Fatalf("job %+v, want %s/%s\nsipp:\n%s", got, tc.want, tc.status, out)
			}
			if tc.want == OutcomeRightParty && codec != "PCMU" {
				t.Errorf("runner saw codec %q", codec)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("sipp: %v\n%s", err, out)
				}
			case <-ctx.Done():
				t.Fatal("sipp did not finish its scenario")
			}
			es := r.entries("777")
			if len(es) != 2 || es[1].Outcome != string(tc.want) {
				t.Fatalf("ledger %+v", es)
			}
		})
	}
}
