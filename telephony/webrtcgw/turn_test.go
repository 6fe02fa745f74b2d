package webrtcgw

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"hotline/telephony"
)

// startTURN runs a TURN server on loopback that accepts TURN REST API
// credentials signed with secret (coturn's use-auth-secret), counting the
// relay allocations it made.
func startTURN(t *testing.T, secret string) (url string, allocs *atomic.Int64) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	allocs = &atomic.Int64{}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:       "hotline.test",
		AuthHandler: turn.LongTermTURNRESTAuthHandler(secret, nil),
		EventHandler: turn.EventHandler{
			OnAllocationCreated: func(net.Addr, net.Addr, string, string, string, net.Addr, int) { allocs.Add(1) },
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn: pc,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{
				RelayAddress: net.ParseIP("127.0.0.1"), Address: "127.0.0.1",
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return "turn:127.0.0.1:" + strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port) + "?transport=udp", allocs
}

// TestTURNRESTCredentialsRelay: with turn_secret the gateway signs
// ephemeral credentials that a real TURN server (pion/turn, REST API auth)
// accepts, so the answer carries a relay candidate; a wrong secret gets
// no relay.
func TestTURNRESTCredentialsRelay(t *testing.T) {
	for _, tc := range []struct {
		name, secret string
		relay        bool
	}{
		{"right secret", "s3cret", true},
		{"wrong secret", "guess", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, allocs := startTURN(t, "s3cret")
			g := newTestGateway(t, Config{ICEServers: []string{url}, TURNSecret: tc.secret}, newRecorder(0))
			c := newClient(t, 101)
			t.Cleanup(c.close)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			ans, leg, err := g.Answer(ctx, c.offer(), telephony.LegInfo{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = leg.Hangup(context.Background(), telephony.CauseBotHangup) })
			if got := strings.Contains(ans, "typ relay"); got != tc.relay {
				t.Errorf("answer has a relay candidate: %v, want %v\n%s", got, tc.relay, ans)
			}
			if got := allocs.Load() > 0; got != tc.relay {
				t.Errorf("TURN server made %d allocations, want any: %v", allocs.Load(), tc.relay)
			}
		})
	}
}

// TestTURNRESTCredentialsMatchPion: our user name and password are the
// ones pion/turn's generator makes for the same expiry.
func TestTURNRESTCredentialsMatchPion(t *testing.T) {
	user, pass, err := turn.GenerateLongTermTURNRESTCredentials("s3cret", "hotline", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := strconv.ParseInt(strings.SplitN(user, ":", 2)[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	gotUser, gotPass := TURNRESTCredentials("s3cret", "hotline", time.Unix(exp, 0))
	if gotUser != user || gotPass != pass {
		t.Errorf("TURNRESTCredentials = %q %q, pion makes %q %q", gotUser, gotPass, user, pass)
	}
}

// TestICEServersCredentials: STUN URLs go bare, TURN URLs with the static
// credentials or fresh ephemeral ones; TURN without any is refused.
func TestICEServersCredentials(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	urls := []string{"stun:stun.example.com:3478", "turn:turn.example.com:3478", "turns:turn.example.com:5349"}
	g, err := New(Config{ICEServers: urls, TURNUsername: "u", TURNCredential: "p"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := g.browserICEConfig(now)
	if len(c.ICEServers) != 2 || c.ICEServers[0].Username != "" || c.ICEServers[0].Credential != "" ||
		c.ICEServers[1].Username != "u" || c.ICEServers[1].Credential != "p" || len(c.ICEServers[1].URLs) != 2 {
		t.Errorf("static: %+v", c)
	}
	g, err = New(Config{ICEServers: urls, TURNSecret: "s3cret", TURNCredentialTTL: time.Hour}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c = g.browserICEConfig(now)
	wantUser, wantPass := TURNRESTCredentials("s3cret", turnUser, now.Add(time.Hour))
	if s := c.ICEServers[1]; s.Username != wantUser || s.Credential != wantPass || !strings.HasPrefix(s.Username, "1800003600:") {
		t.Errorf("ephemeral: %+v, want %s / %s", s, wantUser, wantPass)
	}
	if _, err := New(Config{ICEServers: urls}, nil, nil); err == nil {
		t.Error("TURN without credentials accepted")
	}
	if _, err := New(Config{ICEServers: urls[:1]}, nil, nil); err != nil {
		t.Errorf("STUN only: %v", err)
	}
}
