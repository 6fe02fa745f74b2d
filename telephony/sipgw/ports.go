package sipgw

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
)

// errNoRTPPort: every port of the range is taken.
var errNoRTPPort = errors.New("sipgw: no free RTP port")

// portPool hands out one UDP socket per call from the configured range.
// It remembers the ports it lent so it never tries them twice; ports that
// something else on the host holds are skipped when bind fails.
type portPool struct {
	ip       netip.Addr // bind address (the listen IP, maybe 0.0.0.0)
	min, max int        // even bounds, inclusive

	mu     sync.Mutex
	inUse  map[int]bool
	cursor int
}

func newPortPool(ip netip.Addr, min, max int) *portPool {
	min += min & 1 // RTP takes even ports (RFC 3550 §11); RTCP the odd one above
	max -= max & 1
	p := &portPool{ip: ip, min: min, max: max, inUse: make(map[int]bool)}
	// Start at a random place so restarts and parallel test processes
	// do not all fight over the bottom of the range.
	p.cursor = min + 2*rand.IntN((max-min)/2+1)
	return p
}

// open binds a UDP socket on the next free even port.
func (p *portPool) open() (*net.UDPConn, int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := (p.max-p.min)/2 + 1
	var lastErr error
	for range n {
		port := p.cursor
		p.cursor += 2
		if p.cursor > p.max {
			p.cursor = p.min
		}
		if p.inUse[port] {
			continue
		}
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port))))
		if err != nil {
			lastErr = err // held by another process: try the next one
			continue
		}
		p.inUse[port] = true
		return conn, port, nil
	}
	if lastErr != nil {
		return nil, 0, fmt.Errorf("%w in %d-%d: %w", errNoRTPPort, p.min, p.max, lastErr)
	}
	return nil, 0, fmt.Errorf("%w in %d-%d", errNoRTPPort, p.min, p.max)
}

// release returns a port after its socket was closed.
func (p *portPool) release(port int) {
	p.mu.Lock()
	delete(p.inUse, port)
	p.mu.Unlock()
}
