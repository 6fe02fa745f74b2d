package outbound

import (
	"context"
	"sync"
	"testing"
	"time"

	"hotline/telephony"
	"hotline/telephony/telephonytest"
)

// clock is an injected clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeDialer records dials per target and answers with a fake leg unless
// result says otherwise.
type fakeDialer struct {
	mu      sync.Mutex
	dials   map[string]int
	headers []map[string]string
	// result, when set, decides a dial: a non-nil error fails it.
	result func(ctx context.Context, target string) error
	onDial func(target string)
	legs   []*telephonytest.Leg
}

func newFakeDialer() *fakeDialer { return &fakeDialer{dials: map[string]int{}} }

func (d *fakeDialer) Dial(ctx context.Context, target string, headers map[string]string) (telephony.Leg, error) {
	d.mu.Lock()
	d.dials[target]++
	d.headers = append(d.headers, headers)
	d.mu.Unlock()
	if d.onDial != nil {
		d.onDial(target)
	}
	if d.result != nil {
		if err := d.result(ctx, target); err != nil {
			return nil, err
		}
	}
	leg := telephonytest.NewLeg(telephony.LegInfo{Direction: telephony.Outbound})
	d.mu.Lock()
	d.legs = append(d.legs, leg)
	d.mu.Unlock()
	return leg, nil
}

func (d *fakeDialer) count(target string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dials[target]
}

func (d *fakeDialer) total() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, c := range d.dials {
		n += c
	}
	return n
}

// runnerFunc adapts a function to Runner.
type runnerFunc func(ctx context.Context, leg telephony.Leg, job Job) (Outcome, error)

func (f runnerFunc) RunOutbound(ctx context.Context, leg telephony.Leg, job Job) (Outcome, error) {
	return f(ctx, leg, job)
}

func answerRight(context.Context, telephony.Leg, Job) (Outcome, error) { return OutcomeRightParty, nil }

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// phonesMap is a PhoneBook over a map.
type phonesMap map[string]string

func (m phonesMap) Phone(_ context.Context, cn string) (string, error) {
	if p, ok := m[cn]; ok {
		return p, nil
	}
	return "", ErrNotFound
}
