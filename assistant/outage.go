package assistant

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/session"
	"hotline/dialogs"
)

// A Redis outage must not drop a call. The engine keeps the last good
// session of every live call in memory; while Redis is unreachable a turn
// continues from that copy, the flow is told (dialogs.InputOutage) when it
// needed case data it could not get — the caller hears an apology and is
// offered a consultant or a callback — and the changed session is marked
// dirty. The first turn (of any call) that reaches Redis again saves the
// dirty sessions with the usual compare-and-set: nobody else wrote them
// meanwhile, so the stored version still matches.

// ErrOutage marks an error caused by the store being unreachable (Redis
// down, restarting, failing over); IsOutage recognises it and the raw
// client errors alike.
var ErrOutage = errors.New("assistant: store unreachable")

// IsOutage reports whether err means the store could not be reached, as
// opposed to a refusal (not found, conflict, bad data) or a cancelled call.
func IsOutage(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, ErrOutage) || errors.Is(err, redis.ErrPoolTimeout) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	// Replies of a server that is up but cannot serve yet (loading its
	// AOF after a restart, a replica without a master, a cluster healing).
	var re redis.Error
	if errors.As(err, &re) {
		for _, p := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY"} {
			if strings.HasPrefix(re.Error(), p) {
				return true
			}
		}
	}
	return false
}

// memo is the last known session of a call.
type memo struct {
	s     *session.Session
	dirty bool // changed since the last successful save
}

// memory holds the memos of live calls (and of calls that ended during an
// outage, until they are saved).
type memory struct {
	mu    sync.Mutex
	calls map[string]*memo
	dirty int
	// locks keep a flush (another call's turn writing this call's dirty
	// copy) apart from this call's own turns. Turns share the lock: turns
	// of one call are sequential on one instance, and two instances racing
	// on a call are settled by the store's compare-and-set.
	locks map[string]*callLock
}

type callLock struct {
	mu sync.RWMutex
	n  int // holders and waiters
}

// share takes the call's lock for a turn and returns its release.
func (m *memory) share(id string) func() {
	l := m.entry(id)
	l.mu.RLock()
	return func() { l.mu.RUnlock(); m.drop(id, l) }
}

// own takes the call's lock exclusively (a flush) and returns its release.
func (m *memory) own(id string) func() {
	l := m.entry(id)
	l.mu.Lock()
	return func() { l.mu.Unlock(); m.drop(id, l) }
}

// tryOwn is own when nobody holds or waits for the call's lock.
func (m *memory) tryOwn(id string) (func(), bool) {
	m.mu.Lock()
	if _, busy := m.locks[id]; busy {
		m.mu.Unlock()
		return nil, false
	}
	m.mu.Unlock()
	return m.own(id), true // a turn starting meanwhile waits for the flush
}

func (m *memory) entry(id string) *callLock {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks == nil {
		m.locks = map[string]*callLock{}
	}
	l := m.locks[id]
	if l == nil {
		l = &callLock{}
		m.locks[id] = l
	}
	l.n++
	return l
}

func (m *memory) drop(id string, l *callLock) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l.n--; l.n == 0 {
		delete(m.locks, id)
	}
}

func (m *memory) get(id string) (*memo, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.calls[id]
	if !ok {
		return nil, false
	}
	cp := *c
	return &cp, true
}

// put remembers s; an ended, saved session is forgotten.
func (m *memory) put(s *session.Session, dirty bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.calls == nil {
		m.calls = map[string]*memo{}
	}
	if old, ok := m.calls[s.ID]; ok && old.dirty {
		m.dirty--
	}
	if s.Ended() && !dirty {
		delete(m.calls, s.ID)
		return
	}
	m.calls[s.ID] = &memo{s: s, dirty: dirty}
	if dirty {
		m.dirty++
	}
}

// forget drops the call's memo.
func (m *memory) forget(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.calls[id]; ok {
		if old.dirty {
			m.dirty--
		}
		delete(m.calls, id)
	}
}

// dirtyOnes returns the sessions waiting to be saved.
func (m *memory) dirtyOnes() []*session.Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirty == 0 {
		return nil
	}
	var out []*session.Session
	for _, c := range m.calls {
		if c.dirty {
			out = append(out, c.s)
		}
	}
	return out
}

// Degraded reports how many sessions wait for the store to come back.
func (e *Engine) Degraded() int {
	e.mem.mu.Lock()
	defer e.mem.mu.Unlock()
	return e.mem.dirty
}

// load returns the call's session: from Redis, or during an outage the
// in-memory copy. A dirty copy is saved first (that is the recovery), and
// it is the truth: the stored one is older.
func (e *Engine) load(ctx context.Context, callID string) (*session.Session, error) {
	if m, ok := e.mem.get(callID); ok && m.dirty {
		if err := e.save(ctx, m.s); err != nil {
			return nil, err
		}
		return m.s, nil
	}
	s, err := e.opt.Sessions.Load(ctx, callID)
	if err == nil {
		e.mem.put(s, false)
		return s, nil
	}
	if IsOutage(err) {
		if m, ok := e.mem.get(callID); ok {
			e.log.Warn("session store unreachable: the call continues from memory", "call_id", callID, "err", err)
			return m.s, nil
		}
		return nil, fmt.Errorf("%w: %w", ErrOutage, err)
	}
	return nil, err
}

// save stores s with compare-and-set. During an outage s is kept in
// memory as dirty and save succeeds: the caller is not failed for what the
// next reachable turn will write. After a save that reached Redis, other
// calls' dirty sessions are written too.
func (e *Engine) save(ctx context.Context, s *session.Session) error {
	err := e.opt.Sessions.Save(ctx, s)
	switch {
	case err == nil:
		e.mem.put(s, false)
		e.flushDirty(ctx, s.ID)
		return nil
	case IsOutage(err):
		e.log.Warn("session store unreachable: the session is kept in memory until it is back", "call_id", s.ID, "err", err)
		e.mem.put(s, true)
		return nil
	}
	return err
}

// flushDirty saves the dirty sessions of other calls once Redis answers
// again (a call that ended during the outage has no later turn of its own).
func (e *Engine) flushDirty(ctx context.Context, except string) {
	for _, s := range e.mem.dirtyOnes() {
		if s.ID == except {
			continue
		}
		unlock, ok := e.mem.tryOwn(s.ID)
		if !ok {
			continue // its own turn is running: that turn saves it
		}
		err := e.opt.Sessions.Save(ctx, s)
		switch {
		case err == nil:
			e.mem.put(s, false)
			e.log.Info("session saved after the store came back", "call_id", s.ID)
		case !IsOutage(err):
			// Another instance took the call over (or it expired): its copy wins.
			e.log.Warn("dirty session dropped", "call_id", s.ID, "err", err)
			e.mem.forget(s.ID)
		}
		unlock()
		if IsOutage(err) {
			return
		}
	}
}

// Flush saves every session kept in memory during an outage; it returns
// the error of the first that could not be saved.
func (e *Engine) Flush(ctx context.Context) error {
	for _, s := range e.mem.dirtyOnes() {
		unlock := e.mem.own(s.ID)
		err := e.opt.Sessions.Save(ctx, s)
		if err == nil {
			e.mem.put(s, false)
		}
		unlock()
		if err != nil {
			return fmt.Errorf("assistant: flush %s: %w", s.ID, err)
		}
	}
	return nil
}

// outageTurn replaces a turn that failed because the case data could not
// be reached: the flow gets dialogs.InputOutage on the state the turn
// started from. The caller's input is still transcribed as theirs.
func (e *Engine) outageTurn(ctx context.Context, failed *turn, cause error) (*turn, error) {
	e.log.Warn("case data unreachable: telling the caller and offering a consultant or a callback",
		"call_id", failed.callID, "err", cause)
	t := &turn{callID: failed.callID, state: failed.state,
		input: dialogs.Input{Kind: dialogs.InputOutage, At: failed.input.At}}
	out, err := e.graph.Invoke(ctx, t, e.cbs)
	if err != nil {
		return nil, err
	}
	out.input, out.expect = failed.input, failed.expect
	return out, nil
}
