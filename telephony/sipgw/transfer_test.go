package sipgw

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emiago/sipgo/sip"

	"hotline/telephony"
	"hotline/telephony/audio"
	"hotline/telephony/telephonytest"
)

func TestTransferConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      Config
		want    Config // checked fields only
		wantErr string
	}{
		{"defaults", Config{}, Config{TransferMode: TransferRefer, RingbackTone: RingbackETSI, ReferTimeout: DefaultReferTimeout}, ""},
		{"bridge, brackets trimmed", Config{TransferMode: " Bridge ", TransferTarget: "<sip:kons@pbx.example>", RingbackTone: "US"},
			Config{TransferMode: TransferBridge, TransferTarget: "sip:kons@pbx.example", RingbackTone: RingbackUS, ReferTimeout: DefaultReferTimeout}, ""},
		{"sips for refer", Config{TransferTarget: "sips:kons@pbx.example"},
			Config{TransferMode: TransferRefer, TransferTarget: "sips:kons@pbx.example", RingbackTone: RingbackETSI, ReferTimeout: DefaultReferTimeout}, ""},
		{"bad mode", Config{TransferMode: "attended"}, Config{}, "transfer mode"},
		{"bad tone", Config{RingbackTone: "uk"}, Config{}, "ringback tone"},
		{"not a URI", Config{TransferTarget: "konsultant"}, Config{}, "not a SIP URI"},
		{"sips cannot be dialled", Config{TransferMode: "bridge", TransferTarget: "sips:kons@pbx"}, Config{}, "scheme"},
		{"header injection", Config{TransferTarget: "sip:kons@pbx\r\nX-Evil: 1"}, Config{}, "transfer target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Listen = "127.0.0.1:0"
			got, err := tc.in.withDefaults()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.TransferMode != tc.want.TransferMode || got.TransferTarget != tc.want.TransferTarget ||
				got.RingbackTone != tc.want.RingbackTone || got.ReferTimeout != tc.want.ReferTimeout {
				t.Errorf("got mode %q target %q tone %q timeout %v", got.TransferMode, got.TransferTarget, got.RingbackTone, got.ReferTimeout)
			}
		})
	}
}

func TestParseSipfrag(t *testing.T) {
	for _, tc := range []struct {
		body   string
		code   int
		reason string
		ok     bool
	}{
		{"SIP/2.0 100 Trying\r\n", 100, "Trying", true},
		{"SIP/2.0 200 OK", 200, "OK", true},
		{"\r\nSIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n", 486, "Busy Here", true},
		{"sip/2.0 603", 603, "", true},
		{"SIP/2.0 99 Low", 0, "", false},
		{"SIP/2.0 700 High", 0, "", false},
		{"HTTP/1.1 200 OK", 0, "", false},
		{"SIP/2.0 abc Bad", 0, "", false},
		{"", 0, "", false},
	} {
		code, reason, err := parseSipfrag([]byte(tc.body))
		if (err == nil) != tc.ok || code != tc.code || reason != tc.reason {
			t.Errorf("parseSipfrag(%q) = %d %q %v", tc.body, code, reason, err)
		}
	}
}

func TestParseEventAndMatch(t *testing.T) {
	for _, tc := range []struct{ in, event, id string }{
		{"refer", "refer", ""},
		{"refer;id=93809824", "refer", "93809824"},
		{" refer ; ID = 7 ", "refer", "7"},
		{"presence;foo=bar", "presence", ""},
	} {
		if ev, id := parseEvent(tc.in); ev != tc.event || id != tc.id {
			t.Errorf("parseEvent(%q) = %q %q", tc.in, ev, id)
		}
	}
	sub := &referSub{}
	if !sub.matches("5") {
		t.Error("before the REFER's CSeq is known any id matches")
	}
	sub.cseq.Store(5)
	if !sub.matches("") || !sub.matches("5") || sub.matches("4") || sub.matches("x") {
		t.Error("id matching")
	}
}

func TestReferSubAwait(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for _, tc := range []struct {
		name    string
		notes   [][2]int // status, terminated (0/1)
		wantErr string
	}{
		{"success after progress", [][2]int{{100, 0}, {180, 0}, {200, 1}}, ""},
		{"busy", [][2]int{{100, 0}, {486, 1}}, "486"},
		{"final kept over later provisional", [][2]int{{200, 0}, {100, 0}}, ""},
		{"terminated without final", [][2]int{{100, 0}, {180, 1}}, "terminated without a final status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := &referSub{bell: make(chan struct{}, 1)}
			for _, n := range tc.notes {
				sub.update(n[0], "R", n[1] == 1)
			}
			err := sub.await(ctx, nil)
			if (tc.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("await = %v, want %q", err, tc.wantErr)
			}
		})
	}
	// Nothing final: the deadline or the leg's end stops the wait.
	sub := &referSub{bell: make(chan struct{}, 1)}
	sub.update(100, "Trying", false)
	short, cancelShort := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancelShort()
	if err := sub.await(short, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("await = %v, want the deadline", err)
	}
	ended := make(chan struct{})
	close(ended)
	if err := sub.await(ctx, ended); !errors.Is(err, telephony.ErrLegClosed) {
		t.Errorf("await = %v, want ErrLegClosed", err)
	}
}

func TestContextHeaders(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	long := strings.Repeat("ż", 200) // 400 bytes
	got := contextHeaders(map[string]string{
		"X-Hotline-Case":    "A/1\r\nVia: evil",
		"x-hotline-lang":    "\tpl\x00\x7f ",
		"X-Hotline-Long":    long,
		"X-Bad Name":        "v",
		"X-":                "v",
		"From":              "<sip:evil@x>",
		"X-Hotline-Invalid": "a\xffb\u0085c",
	}, log)
	want := map[string]string{
		"X-Hotline-Case":    "A/1Via: evil",
		"x-hotline-lang":    "pl",
		"X-Hotline-Long":    strings.Repeat("ż", maxContextHeaderValue/2),
		"X-Hotline-Invalid": "abc",
	}
	if len(got) != len(want) {
		t.Errorf("got %d headers %q, want %d", len(got), got, len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for k, v := range got {
		if strings.ContainsAny(v, "\r\n\x00") || len(v) > maxContextHeaderValue {
			t.Errorf("%s = %q is not header-safe", k, v)
		}
	}
}

// FuzzHeaderSafe: whatever the handler passes, the value cannot break
// out of its header line.
func FuzzHeaderSafe(f *testing.F) {
	for _, s := range []string{"a\r\nb", "\x00", strings.Repeat("ą", 300), "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := headerSafe(v)
		if strings.ContainsAny(got, "\r\n\x00") || len(got) > maxContextHeaderValue || !utf8.ValidString(got) {
			t.Errorf("headerSafe(%q) = %q", v, got)
		}
	})
}

// TestRingbackCadence: ETSI ringing is 1 s of 425 Hz, then 4 s of
// silence, again and again.
func TestRingbackCadence(t *testing.T) {
	for _, tc := range []struct {
		kind       string
		freq       float64
		on, period int // frames
	}{
		{RingbackETSI, 425, 50, 250},
		{RingbackUS, 440, 100, 300},
	} {
		rb := newRingback(tc.kind)
		var f audio.Frame
		for i := range 2*tc.period + 10 {
			if err := rb.ReadFrame(&f); err != nil {
				t.Fatal(err)
			}
			on := i%tc.period < tc.on
			if on && (audio.RMS(f[:]) < 1000 || telephonytest.ToneShare(f[:], tc.freq) < 0.3) {
				t.Fatalf("%s frame %d: want tone, RMS %.0f share %.2f", tc.kind, i, audio.RMS(f[:]), telephonytest.ToneShare(f[:], tc.freq))
			}
			if !on && audio.Peak(f[:]) != 0 {
				t.Fatalf("%s frame %d: want silence", tc.kind, i)
			}
		}
	}
}

// TestNotifyRouting: NOTIFYs in a live dialog are refused unless they
// belong to a pending REFER: 489 for another event package, 481 with no
// subscription, and 481 outside any dialog.
func TestNotifyRouting(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	gw := startGateway(t, Config{}, newRecorder(5*time.Second))
	phone := startPhone(t, Config{})
	leg, err := phone.Dial(ctx, gw.uri("bot"), nil)
	if err != nil {
		t.Fatal(err)
	}
	dlg := leg.(*call).uac
	notify := func(event string) int {
		req := sip.NewRequest(sip.NOTIFY, dlg.InviteResponse.Contact().Address)
		req.AppendHeader(sip.NewHeader("Event", event))
		req.AppendHeader(sip.NewHeader("Subscription-State", "terminated"))
		req.AppendHeader(sip.NewHeader("Content-Type", contentTypeSipfrag))
		req.SetBody([]byte("SIP/2.0 200 OK\r\n"))
		res, err := dlg.Do(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode
	}
	if code := notify("presence"); code != 489 {
		t.Errorf("NOTIFY presence: %d, want 489", code)
	}
	if code := notify("refer"); code != 481 {
		t.Errorf("NOTIFY refer without a REFER: %d, want 481", code)
	}
	// Outside any dialog.
	raw := newRawUA(t)
	var to sip.Uri
	_ = sip.ParseUri(gw.uri("bot"), &to)
	req := sip.NewRequest(sip.NOTIFY, to)
	req.AppendHeader(sip.NewHeader("Event", "refer"))
	if res := raw.do(ctx, t, req); res.StatusCode != 481 {
		t.Errorf("NOTIFY outside a dialog: %d, want 481", res.StatusCode)
	}
	if err := leg.Hangup(ctx, telephony.CauseBotHangup); err != nil {
		t.Fatal(err)
	}
	if end := gw.waitEnd(t); end.cause != telephony.CauseCallerHangup {
		t.Errorf("cause %s", end.cause)
	}
}
