package sipgw

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	c, err := Config{Listen: "127.0.0.1:5080"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.ContactHost != "127.0.0.1" || c.RTPPortMin != 10000 || c.RTPPortMax != 20000 ||
		c.MediaTimeout != 15*time.Second || c.MediaTimeoutInitial != 30*time.Second ||
		c.AckTimeout != 32*time.Second || c.UserAgent != "hotline" || c.RingTime != 0 {
		t.Errorf("defaults: %+v", c)
	}
	for _, bad := range []Config{
		{Listen: "nonsense"},
		{Listen: "example.com:5060"},
		{Listen: "127.0.0.1:5060", ContactHost: "sip.example.com"},
		{Listen: "127.0.0.1:5060", RTPPortMin: 100, RTPPortMax: 200},
		{Listen: "127.0.0.1:5060", RTPPortMin: 20000, RTPPortMax: 10000},
		{Listen: "127.0.0.1:5060", MaxCalls: -1},
	} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestPortPoolEvenAndReused(t *testing.T) {
	p := newPortPool(netip.MustParseAddr("127.0.0.1"), 31001, 31010) // even ports 31002..31010: 5
	var ports []int
	var conns []*net.UDPConn
	for range 5 {
		conn, port, err := p.open()
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer conn.Close()
		conns = append(conns, conn)
		if port%2 != 0 || port < 31002 || port > 31010 {
			t.Errorf("port %d", port)
		}
		ports = append(ports, port)
	}
	if _, _, err := p.open(); err == nil {
		t.Fatal("a sixth port from a range of five")
	}
	// A released port (its socket closed) is handed out again.
	p.release(ports[2])
	for _, c := range conns {
		if c.LocalAddr().(*net.UDPAddr).Port == ports[2] {
			_ = c.Close()
		}
	}
	conn, port, err := p.open()
	if err != nil || port != ports[2] {
		t.Fatalf("after release: port %d, %v; want %d", port, err, ports[2])
	}
	_ = conn.Close()
}
