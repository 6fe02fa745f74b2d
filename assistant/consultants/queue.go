package consultants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant"
	"hotline/telephony"
)

// waiter is a caller waiting (then bridged) on this instance.
type waiter struct {
	id       string
	leg      chan telephony.Leg // the consultant's leg, once answered
	back     chan struct{}      // closed: the consultant sent the caller back
	backOnce sync.Once
}

func (w *waiter) sendBack() { w.backOnce.Do(func() { close(w.back) }) }

// claimScript offers the longest-waiting caller to one consultant, if
// that consultant is available: the queue entry is removed, the call
// marked offered to them and the consultant marked busy in one atomic
// step, so each caller goes to exactly one consultant and each consultant
// rings for at most one caller, however many instances dispatch at once.
// KEYS[1] queue, KEYS[2] presence of the consultant; ARGV[1] user,
// ARGV[2] now ms, ARGV[3] call key prefix, ARGV[4] presence ttl ms.
// Returns the call id, 0 when the consultant is not available, -1 when
// the queue is empty.
var claimScript = redis.NewScript(`
if redis.call('HGET', KEYS[2], 'state') ~= 'available' then return 0 end
while true do
  local head = redis.call('ZRANGE', KEYS[1], 0, 0)
  if #head == 0 then return -1 end
  local id = head[1]
  redis.call('ZREM', KEYS[1], id)
  local ck = ARGV[3] .. id
  if redis.call('HGET', ck, 'state') == 'waiting' then
    redis.call('HSET', ck, 'state', 'offered', 'consultant', ARGV[1], 'offered_at', ARGV[2])
    redis.call('HSET', KEYS[2], 'state', 'busy', 'call', id, 'since', ARGV[2])
    redis.call('PEXPIRE', KEYS[2], ARGV[4])
    return id
  end
end
`)

// answerScript: the consultant takes the call offered to them.
// KEYS[1] call; ARGV[1] user, ARGV[2] now ms. Returns 1, or 0.
var answerScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'offered' then return 0 end
if redis.call('HGET', KEYS[1], 'consultant') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'connected', 'answered_at', ARGV[2])
return 1
`)

// requeueScript puts an offered caller back at their place in the queue
// (the consultant missed or declined the offer) and sets the consultant
// away so they are not offered the next caller straight away.
// KEYS[1] call, KEYS[2] queue; ARGV[1] user, ARGV[2] presence key prefix,
// ARGV[3] now ms. Returns 1 if requeued.
var requeueScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'offered' then return 0 end
if redis.call('HGET', KEYS[1], 'consultant') ~= ARGV[1] then return 0 end
local id = redis.call('HGET', KEYS[1], 'id')
redis.call('HSET', KEYS[1], 'state', 'waiting', 'consultant', '', 'offered_at', '')
redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[1], 'enqueued_at'), id)
local pk = ARGV[2] .. ARGV[1]
if redis.call('HGET', pk, 'call') == id then
  redis.call('HSET', pk, 'state', 'away', 'call', '', 'since', ARGV[3])
end
return 1
`)

// endScript ends a call's queue life: out of the queue, the record
// marked ended, its consultant (if still busy with it) available again.
// KEYS[1] call, KEYS[2] queue; ARGV[1] outcome, ARGV[2] presence key
// prefix, ARGV[3] now ms, ARGV[4] users zset key. Returns the state the
// call was in ("" if unknown).
var endScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return '' end
local id = redis.call('HGET', KEYS[1], 'id')
redis.call('ZREM', KEYS[2], id)
if st == 'ended' then return st end
redis.call('HSET', KEYS[1], 'state', 'ended', 'outcome', ARGV[1], 'ended_at', ARGV[3])
local user = redis.call('HGET', KEYS[1], 'consultant')
if user and user ~= '' then
  local pk = ARGV[2] .. user
  if redis.call('HGET', pk, 'call') == id then
    redis.call('HSET', pk, 'state', 'available', 'call', '', 'since', ARGV[3])
    redis.call('ZADD', ARGV[4], ARGV[3], user)
  end
end
return st
`)

// Wait puts a transferred caller in the queue and blocks until a
// consultant's leg is connected (Connect), the queue timeout passes
// (ErrTimeout) or ctx ends. position is told the caller's place in line
// (1 = next) whenever it changes; it must not block. The returned channel
// is closed when the consultant sends the caller back to the assistant.
// The caller must call Finish when the call (or its transfer) is over.
func (s *Service) Wait(ctx context.Context, tc *assistant.TransferContext, position func(n int)) (_ telephony.Leg, _ <-chan struct{}, err error) {
	if tc == nil || tc.CallID == "" {
		return nil, nil, errors.New("consultants: wait: no transfer context")
	}
	id := tc.CallID
	w := &waiter{id: id, leg: make(chan telephony.Leg, 1), back: make(chan struct{})}
	s.mu.Lock()
	s.waiters[id] = w
	s.mu.Unlock()
	if err := s.enqueue(ctx, tc); err != nil {
		s.forget(id)
		return nil, nil, err
	}
	if s.opt.Observer != nil {
		// Real (monotonic) time: the wait a caller lived through.
		start := time.Now()
		defer func() { s.opt.Observer.ObserveQueueWait(waitResult(err), time.Since(start)) }()
	}
	ck := s.callKey(id)
	s.Dispatch(ctx)

	deadline := time.NewTimer(s.opt.QueueTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(s.opt.Poll)
	defer tick.Stop()
	last := -1
	check := func() {
		vals, err := s.rdb.HMGet(ctx, ck, "state", "consultant", "offered_at").Result()
		if err != nil {
			s.log.Warn("consultants: queue check failed", "err", err)
			return
		}
		st, _ := vals[0].(string)
		switch st {
		case CallWaiting:
			if rank, err := s.rdb.ZRank(ctx, s.prefix+keyQueue, id).Result(); err == nil && int(rank)+1 != last {
				last = int(rank) + 1
				position(last)
			}
			s.Dispatch(ctx)
		case CallOffered:
			user, _ := vals[1].(string)
			at, _ := strconv.ParseInt(fmt.Sprint(vals[2]), 10, 64)
			if s.opt.Now().Sub(time.UnixMilli(at)) >= s.opt.RingTimeout {
				s.requeue(ctx, id, user, "missed")
			}
		}
	}
	check()
	for {
		select {
		case leg := <-w.leg:
			return leg, w.back, nil
		case <-tick.C:
			check()
		case <-deadline.C:
			return s.giveUp(ctx, w, ErrTimeout, "timeout")
		case <-ctx.Done():
			return s.giveUp(ctx, w, context.Cause(ctx), "abandoned")
		}
	}
}

// waitResult names how a wait that returned err ended.
func waitResult(err error) string {
	switch {
	case err == nil:
		return WaitAnswered
	case errors.Is(err, ErrTimeout):
		return WaitTimeout
	}
	return WaitAbandoned
}

// enqueue stores the call's record and puts it at the end of the line.
func (s *Service) enqueue(ctx context.Context, tc *assistant.TransferContext) error {
	id := tc.CallID
	now := s.opt.Now()
	popJSON, err := json.Marshal(s.popup(ctx, tc, now))
	if err != nil {
		return fmt.Errorf("consultants: enqueue: %w", err)
	}
	ck := s.callKey(id)
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, ck)
		p.HSet(ctx, ck, "id", id, "state", CallWaiting, "consultant", "", "enqueued_at", s.ms(now),
			"reason", tc.Reason, "popup", popJSON, "instance", s.instance)
		p.PExpire(ctx, ck, s.opt.CallTTL)
		p.ZAdd(ctx, s.prefix+keyQueue, redis.Z{Score: float64(s.ms(now)), Member: id})
		p.ZAdd(ctx, s.prefix+keyCalls, redis.Z{Score: float64(s.ms(now)), Member: id})
		p.ZRemRangeByRank(ctx, s.prefix+keyCalls, 0, -callsIndexCap-1)
		return nil
	})
	if err != nil {
		return fmt.Errorf("consultants: enqueue: %w", err)
	}
	s.publish(ctx, Event{Type: EventQueued, CallID: id})
	return nil
}

// giveUp ends a wait that timed out or was cancelled, unless a consultant
// answered in the same instant: then their leg is on its way.
func (s *Service) giveUp(ctx context.Context, w *waiter, why error, outcome string) (telephony.Leg, <-chan struct{}, error) {
	st := s.end(context.WithoutCancel(ctx), w.id, outcome)
	if st == CallConnected && ctx.Err() == nil {
		t := time.NewTimer(10 * time.Second)
		defer t.Stop()
		select {
		case leg := <-w.leg:
			return leg, w.back, nil
		case <-t.C:
		case <-ctx.Done():
		}
	}
	s.forget(w.id)
	return nil, nil, why
}

// Dispatch offers waiting callers to available consultants, the one
// available longest first. Any instance may run it at any time.
func (s *Service) Dispatch(ctx context.Context) {
	n, err := s.rdb.ZCard(ctx, s.prefix+keyQueue).Result()
	if err != nil || n == 0 {
		return
	}
	ps, err := s.Presences(ctx)
	if err != nil {
		return
	}
	for _, p := range ps { // longest available first (the users zset order)
		if p.State != Available {
			continue
		}
		id, err := s.Claim(ctx, p.User)
		if errors.Is(err, errQueueEmpty) {
			return
		}
		if err != nil || id == "" {
			continue
		}
		s.offer(ctx, id, p.User)
	}
}

var errQueueEmpty = errors.New("consultants: queue empty")

// Claim offers the head of the queue to user if user is available. It
// returns the call id, "" when user is not available, or errQueueEmpty.
func (s *Service) Claim(ctx context.Context, user string) (string, error) {
	res, err := claimScript.Run(ctx, s.rdb, []string{s.prefix + keyQueue, s.presenceKey(user)},
		user, s.ms(s.opt.Now()), s.prefix+keyCall, s.opt.PresenceTTL.Milliseconds()).Result()
	if err != nil {
		return "", fmt.Errorf("consultants: claim: %w", err)
	}
	switch v := res.(type) {
	case string:
		return v, nil
	case int64:
		if v < 0 {
			return "", errQueueEmpty
		}
	}
	return "", nil
}

// offer tells the consultant's console to ring.
func (s *Service) offer(ctx context.Context, id, user string) {
	pop, err := s.Popup(ctx, id)
	if err != nil {
		s.log.Warn("consultants: screen-pop unavailable", "err", err)
	}
	s.publish(ctx, Event{Type: EventOffer, CallID: id, User: user, Popup: pop})
	s.publish(ctx, Event{Type: EventPresence, User: user, State: Busy})
}

// requeue puts an offered caller back in line.
func (s *Service) requeue(ctx context.Context, id, user, why string) bool {
	n, err := requeueScript.Run(ctx, s.rdb, []string{s.callKey(id), s.prefix + keyQueue},
		user, s.prefix+keyPresence, s.ms(s.opt.Now())).Int()
	if err != nil || n == 0 {
		return false
	}
	s.publish(ctx, Event{Type: EventOfferCancelled, CallID: id, User: user, Outcome: why})
	s.publish(ctx, Event{Type: EventPresence, User: user, State: Away})
	return true
}

// end marks a call ended and returns the state it was in.
func (s *Service) end(ctx context.Context, id, outcome string) string {
	st, err := endScript.Run(ctx, s.rdb, []string{s.callKey(id), s.prefix + keyQueue},
		outcome, s.prefix+keyPresence, s.ms(s.opt.Now()), s.prefix+keyUsers).Text()
	if err != nil {
		s.log.Warn("consultants: ending a queued call failed", "err", err)
		return ""
	}
	if st != CallEnded && st != "" {
		s.publish(ctx, Event{Type: EventEnded, CallID: id, Outcome: outcome})
		if user, err := s.rdb.HGet(ctx, s.callKey(id), "consultant").Result(); err == nil && user != "" {
			if p, err := s.PresenceOf(ctx, user); err == nil {
				s.publish(ctx, Event{Type: EventPresence, User: user, State: p.State})
			}
		}
	}
	return st
}

// Answer records that user takes the call offered to them. The call's
// caller must be waiting on this instance (ErrElsewhere otherwise: the
// console then relays the answer to the caller's instance, RelayAnswer);
// then the console accepts the consultant's browser leg and calls Connect.
func (s *Service) Answer(ctx context.Context, id, user string) error {
	s.mu.Lock()
	_, here := s.waiters[id]
	s.mu.Unlock()
	if !here {
		if rec, err := s.Call(ctx, id); err == nil && rec.Consultant == user && rec.State == CallOffered {
			return ErrElsewhere
		}
		return ErrNotOffered
	}
	n, err := answerScript.Run(ctx, s.rdb, []string{s.callKey(id)}, user, s.ms(s.opt.Now())).Int()
	if err != nil {
		return fmt.Errorf("consultants: answer: %w", err)
	}
	if n == 0 {
		return ErrNotOffered
	}
	return nil
}

// Connect hands the consultant's leg to the waiting caller (after Answer).
func (s *Service) Connect(ctx context.Context, id, user string, leg telephony.Leg) error {
	s.mu.Lock()
	w, ok := s.waiters[id]
	if ok {
		s.legs[id] = leg
	}
	s.mu.Unlock()
	if !ok {
		return ErrElsewhere
	}
	select {
	case w.leg <- leg:
	default:
		return ErrNotOffered
	}
	s.publish(ctx, Event{Type: EventConnected, CallID: id, User: user})
	return nil
}

// Back asks the caller's instance to take the caller back from the
// consultant to the assistant (which offers a callback).
func (s *Service) Back(ctx context.Context, id, user string) error {
	rec, err := s.Call(ctx, id)
	if err != nil {
		return err
	}
	if rec.Consultant != user || rec.State != CallConnected {
		return ErrNotOffered
	}
	s.control(Event{Type: EventBack, CallID: id})
	s.publish(ctx, Event{Type: EventBack, CallID: id, User: user})
	return nil
}

// Hangup ends the consultant's side: a ringing offer is declined (the
// caller goes back in line), a connected call is hung up.
func (s *Service) Hangup(ctx context.Context, id, user string) error {
	rec, err := s.Call(ctx, id)
	if err != nil {
		return err
	}
	if rec.Consultant != user {
		return ErrNotOffered
	}
	switch rec.State {
	case CallOffered:
		if !s.requeue(ctx, id, user, "declined") {
			return ErrNotOffered
		}
		return nil
	case CallConnected:
		s.control(Event{Type: EventHangup, CallID: id})
		s.publish(ctx, Event{Type: EventHangup, CallID: id, User: user})
		return nil
	}
	return ErrNotOffered
}

// Finish ends a call's queue record (the caller's side calls it once the
// transfer or the bridged conversation is over); outcome is recorded.
func (s *Service) Finish(ctx context.Context, id, outcome string) {
	s.end(ctx, id, outcome)
	s.forget(id)
	s.Dispatch(ctx) // the consultant may be free for the next caller
}

func (s *Service) forget(id string) {
	s.mu.Lock()
	delete(s.waiters, id)
	delete(s.legs, id)
	s.mu.Unlock()
}

// control acts on a back/hang-up request for a call served here.
func (s *Service) control(ev Event) {
	s.mu.Lock()
	w := s.waiters[ev.CallID]
	leg := s.legs[ev.CallID]
	s.mu.Unlock()
	switch ev.Type {
	case EventBack:
		if w != nil {
			w.sendBack()
		}
	case EventHangup:
		if leg != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = leg.Hangup(ctx, telephony.CauseCallerHangup)
		}
	}
}
