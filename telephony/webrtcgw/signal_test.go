package webrtcgw

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/labstack/echo/v4"

	"hotline/telephony"
)

// subtitler greets with a subtitle and stays until the caller leaves.
var subtitler = telephony.HandlerFunc(func(ctx context.Context, leg telephony.Leg) error {
	leg.(telephony.Notifier).Notify(telephony.Note{Kind: telephony.NoteSubtitle, Text: "Dzień dobry"})
	<-leg.Done()
	return nil
})

func startSignal(t *testing.T, cfg Config, h telephony.Handler) (*Gateway, string) {
	t.Helper()
	g := newTestGateway(t, cfg, h)
	e := echo.New()
	g.Mount(e.Group("/webrtc"))
	MountPage(e.Group(""))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return g, srv.URL
}

func postOffer(t *testing.T, base, body string) (int, map[string]string) {
	t.Helper()
	res, err := http.Post(base+"/webrtc/offer", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]string
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("status %d, body not JSON: %v", res.StatusCode, err)
	}
	return res.StatusCode, out
}

func offerBody(t *testing.T, sdp string) string {
	t.Helper()
	b, err := json.Marshal(OfferRequest{SDP: sdp})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSignalCallWithEventsAndPageHangup(t *testing.T) {
	g, base := startSignal(t, Config{}, subtitler)
	c := newClient(t, 126)
	code, out := postOffer(t, base, offerBody(t, c.offer()))
	if code != http.StatusOK || out["id"] == "" || !strings.Contains(out["sdp"], "a=fingerprint") {
		t.Fatalf("POST /offer = %d %v", code, out)
	}
	c.answer(out["sdp"])

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/webrtc/events/" + out["id"]
	ws, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	// One reader per call: a second socket is refused.
	if res, err := http.Get(base + "/webrtc/events/" + out["id"]); err != nil || res.StatusCode != http.StatusConflict {
		t.Errorf("second events reader: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	seen := map[string]NoteMessage{}
	for seen["subtitle"].Text == "" || seen["state"].Data["state"] != "connected" || seen[NoteAudio].Data == nil {
		var n NoteMessage
		if err := wsjson.Read(ctx, ws, &n); err != nil {
			t.Fatalf("reading notes (have %v): %v", seen, err)
		}
		seen[n.Kind] = n
	}
	if seen["subtitle"].Text != "Dzień dobry" {
		t.Errorf("subtitle = %+v", seen["subtitle"])
	}
	if rms, _ := strconv.Atoi(seen[NoteAudio].Data["rx_rms"]); rms < 1000 {
		t.Errorf("audio note = %+v: want the client's tone level", seen[NoteAudio])
	}

	if err := wsjson.Write(ctx, ws, PageMessage{Type: "hangup"}); err != nil {
		t.Fatal(err)
	}
	var last NoteMessage
	for last.Kind != telephony.NoteHangup {
		if err := wsjson.Read(ctx, ws, &last); err != nil {
			t.Fatalf("no hangup note: %v", err)
		}
	}
	if last.Data["cause"] != string(telephony.CauseCallerHangup) {
		t.Errorf("hangup note = %+v", last)
	}
	if _, _, err := ws.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("socket end = %v, want a normal closure", err)
	}
	wait(t, c.ended, "the browser side to end")
	if g.ActiveCalls() != 0 {
		t.Errorf("ActiveCalls = %d", g.ActiveCalls())
	}
	if res, err := http.Get(base + "/webrtc/events/" + out["id"]); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("events of an ended call: %v %v", res, err)
	} else {
		res.Body.Close()
	}
}

func TestSignalRefusals(t *testing.T) {
	g, base := startSignal(t, Config{MaxCalls: 1}, subtitler)
	for name, body := range map[string]string{
		"not json":      "sdp=v%3D0",
		"unknown field": `{"sdp":"v=0","type":"offer"}`,
		"two objects":   `{"sdp":"v=0"}{"sdp":"v=0"}`,
		"empty sdp":     `{"sdp":"  "}`,
		"bad sdp":       `{"sdp":"hello"}`,
		"huge":          `{"sdp":"` + strings.Repeat("a", maxOfferSize+8192) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			code, out := postOffer(t, base, body)
			if code != http.StatusBadRequest || out["error"] == "" {
				t.Errorf("= %d %v, want 400 with an error", code, out)
			}
		})
	}
	c1 := newClient(t, 126)
	code, out := postOffer(t, base, offerBody(t, c1.offer()))
	if code != http.StatusOK {
		t.Fatalf("first call: %d %v", code, out)
	}
	c1.answer(out["sdp"]) // so that closing it at the end ends the call
	if code, _ := postOffer(t, base, offerBody(t, newClient(t, 126).offer())); code != http.StatusServiceUnavailable {
		t.Errorf("at MaxCalls: %d, want 503", code)
	}
	g.Drain()
	if code, _ := postOffer(t, base, offerBody(t, newClient(t, 126).offer())); code != http.StatusServiceUnavailable {
		t.Errorf("draining: %d, want 503", code)
	}
	if res, err := http.Get(base + "/webrtc/events/nope"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown call: %v %v", res, err)
	} else {
		res.Body.Close()
	}
}

func TestPageAssets(t *testing.T) {
	_, base := startSignal(t, Config{}, subtitler)
	for path, want := range map[string]string{
		"/":          "Zadzwoń",
		"/call.js":   "insertDTMF",
		"/style.css": "keypad",
	} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(b.String(), want) {
			t.Errorf("GET %s = %d, want %q in the body", path, res.StatusCode, want)
		}
	}
}

// TestICEServersEndpoint: the page gets the configured STUN/TURN URLs in
// RTCConfiguration's shape (TURN with its credentials, never cached), and
// an empty list (not null) without any.
func TestICEServersEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name string
		urls []string
		want string
	}{
		{"none", nil, `{"iceServers":[]}`},
		{"stun and turn", []string{"stun:stun.example.com:3478", "turn:turn.example.com:3478"},
			`{"iceServers":[{"urls":["stun:stun.example.com:3478"]},{"urls":["turn:turn.example.com:3478"],"username":"agent","credential":"pw"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, base := startSignal(t, Config{ICEServers: tc.urls, TURNUsername: "agent", TURNCredential: "pw"}, subtitler)
			res, err := http.Get(base + "/webrtc/ice-servers")
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			_, _ = b.ReadFrom(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || strings.TrimSpace(b.String()) != tc.want {
				t.Errorf("GET /webrtc/ice-servers = %d %s, want %s", res.StatusCode, b.String(), tc.want)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	// The page asks for them before its RTCPeerConnection.
	js, err := web.ReadFile("web/call.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte("API + '/ice-servers'")) || !bytes.Contains(js, []byte("new RTCPeerConnection({ iceServers: hotline.iceServers })")) {
		t.Error("call.js does not use /webrtc/ice-servers for its RTCPeerConnection")
	}
}
