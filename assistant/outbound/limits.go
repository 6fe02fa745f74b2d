package outbound

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// Shared limits protect the SIP trunk and keep campaigns at their agreed
// pace when several `hotline serve` instances dial through one Redis: a
// trunk that allows 10 calls at once and 5 new calls per second must not
// see 10 × N and 5 × N because N instances each keep their own count.
// Each instance still has its own limits (WorkerConfig.MaxConcurrent and
// CPS, what one process can carry); the shared ones bound them all.
//
// Both kinds live in Redis and use the Redis server's clock
// (redis.call('TIME')), so instances whose clocks disagree still agree
// on the spacing. Scripts calling TIME before writing need effects
// replication, the default since Redis 5 (Redis 7 only has it; miniredis
// runs them too). On Redis Cluster the keys sit under the configured
// hash-tagged prefix ("{hotline}:"), so a script that touches the trunk's
// and a campaign's keys at once stays on one slot.
//
// Limit keys, relative to the prefix; the suffix is "trunk" or
// "campaign:<id>".
const (
	keyRate = "outbound:rate:" // string: the next free start, µs on the Redis clock
	keySem  = "outbound:sem:"  // zset: holders scored by lease expiry, ms on the Redis clock
)

// Rate is one shared calls-per-second limit: call starts on Key are at
// least Every apart, across all instances.
type Rate struct {
	Key   string // full Redis key
	Every time.Duration
}

// Semaphore is one shared concurrency limit: at most Limit holders of Key
// at once, across all instances.
type Semaphore struct {
	Key   string // full Redis key
	Limit int
}

// Limits reserves call starts and call slots shared by every instance on
// one Redis.
type Limits struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewLimits returns the shared limits stored under prefix.
func NewLimits(rdb redis.UniversalClient, prefix string) *Limits {
	return &Limits{rdb: rdb, prefix: prefix}
}

// rateEvery turns calls per second into the spacing of starts (0: none).
func rateEvery(cps float64) time.Duration {
	if cps <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / cps)
}

// TrunkRate is the trunk's calls-per-second limit (cps <= 0: none, ok false).
func (l *Limits) TrunkRate(cps float64) (Rate, bool) {
	return Rate{Key: l.prefix + keyRate + "trunk", Every: rateEvery(cps)}, cps > 0
}

// CampaignRate is a campaign's calls-per-second limit (cps <= 0: none).
func (l *Limits) CampaignRate(id string, cps float64) (Rate, bool) {
	return Rate{Key: l.prefix + keyRate + "campaign:" + id, Every: rateEvery(cps)}, cps > 0
}

// TrunkSlots is the trunk's concurrency limit (limit <= 0: none).
func (l *Limits) TrunkSlots(limit int) (Semaphore, bool) {
	return Semaphore{Key: l.prefix + keySem + "trunk", Limit: limit}, limit > 0
}

// CampaignSlots is a campaign's concurrency limit (limit <= 0: none).
func (l *Limits) CampaignSlots(id string, limit int) (Semaphore, bool) {
	return Semaphore{Key: l.prefix + keySem + "campaign:" + id, Limit: limit}, limit > 0
}

// reserveScript reserves one start time that every given rate allows: the
// latest of now + min wait and each key's next free start. Each key's next
// free start then moves to that time plus its own spacing, so starts on a
// key are always at least its spacing apart, whichever instance asks.
// Reserving on all keys at once (not one after the other) matters: a
// caller that waited for one rate and then for another would start late
// for the first, closer than its spacing to whoever took the next slot.
// A slot further away than max wait is not reserved (the caller defers
// the job instead of holding it claimed). Keys expire a second after their
// next free start: an idle rate leaves nothing behind.
//
// Numbers are µs since the epoch (16 digits): Lua's default number to
// string conversion keeps 14, so they are written with %.0f.
//
// KEYS: the rate keys. ARGV: 1 min wait (µs), 2 max wait (µs), 3… each
// key's spacing (µs). Returns {reserved 0|1, wait (µs), start (µs)}.
var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local at = now + tonumber(ARGV[1])
for _, k in ipairs(KEYS) do
  local n = tonumber(redis.call('GET', k) or '0') or 0
  if n > at then at = n end
end
if at - now > tonumber(ARGV[2]) then return {0, at - now, at} end
for i, k in ipairs(KEYS) do
  local nxt = at + tonumber(ARGV[i + 2])
  redis.call('SET', k, string.format('%.0f', nxt), 'PX', math.ceil((nxt - now) / 1000) + 1000)
end
return {1, at - now, at}
`)

// Reservation is the answer of Limits.Reserve.
type Reservation struct {
	// OK: the start is reserved. Otherwise nothing was reserved: the next
	// free start is further away than the max wait.
	OK   bool
	Wait time.Duration // until the (reserved or next free) start
	At   time.Time     // that start on the Redis server's clock
}

// Reserve reserves the next start that all rates allow, no sooner than
// minWait from now and no later than maxWait. The caller must wait
// Reservation.Wait before it starts the call; a reservation not used is
// simply lost (the limit is never exceeded, only not used up).
func (l *Limits) Reserve(ctx context.Context, rates []Rate, minWait, maxWait time.Duration) (Reservation, error) {
	keys := make([]string, len(rates))
	args := make([]any, 0, len(rates)+2)
	args = append(args, minWait.Microseconds(), maxWait.Microseconds())
	for i, r := range rates {
		keys[i] = r.Key
		args = append(args, max(r.Every.Microseconds(), 1))
	}
	res, err := reserveScript.Run(ctx, l.rdb, keys, args...).Int64Slice()
	if err != nil {
		return Reservation{}, fmt.Errorf("outbound: rate: %w", err)
	}
	if len(res) != 3 {
		return Reservation{}, fmt.Errorf("outbound: rate: unexpected reply %v", res)
	}
	return Reservation{OK: res[0] == 1, Wait: time.Duration(res[1]) * time.Microsecond, At: time.UnixMicro(res[2])}, nil
}

// semScript takes or keeps a slot of a semaphore. Holders whose lease
// lapsed (their instance crashed or stalled) are dropped first, so their
// slots free themselves. A holder already in the set is renewed; a new
// one is added only below the limit. The key expires a second after the
// last lease: an idle semaphore leaves nothing behind.
//
// KEYS: 1 the holders zset. ARGV: 1 holder, 2 limit, 3 lease (ms).
// Returns 1 held, 0 full.
var semScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now))
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], string.format('%.0f', now + tonumber(ARGV[3])), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.max(tonumber(last[2]) - now, 0) + 1000)
return 1
`)

// semCountScript drops lapsed holders and counts the rest.
// KEYS: 1 the holders zset.
var semCountScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now))
return redis.call('ZCARD', KEYS[1])
`)

// Acquire takes a slot of s for holder (unique per call, e.g. instance and
// job) for lease; false when s is full. Taking a slot the holder already
// has renews it.
func (l *Limits) Acquire(ctx context.Context, s Semaphore, holder string, lease time.Duration) (bool, error) {
	n, err := semScript.Run(ctx, l.rdb, []string{s.Key}, holder, s.Limit, max(lease.Milliseconds(), 1)).Int()
	if err != nil {
		return false, fmt.Errorf("outbound: semaphore: %w", err)
	}
	return n == 1, nil
}

// Renew extends holder's lease on s. A slot whose lease already lapsed is
// taken again if there is room; false when there is not (the call goes on
// over the limit until it ends: it cannot be undone).
func (l *Limits) Renew(ctx context.Context, s Semaphore, holder string, lease time.Duration) (bool, error) {
	return l.Acquire(ctx, s, holder, lease)
}

// Release gives holder's slot of s back. Releasing twice is harmless.
func (l *Limits) Release(ctx context.Context, s Semaphore, holder string) error {
	if err := l.rdb.ZRem(ctx, s.Key, holder).Err(); err != nil {
		return fmt.Errorf("outbound: semaphore: %w", err)
	}
	return nil
}

// Holders counts the live holders of s.
func (l *Limits) Holders(ctx context.Context, s Semaphore) (int, error) {
	n, err := semCountScript.Run(ctx, l.rdb, []string{s.Key}).Int()
	if err != nil {
		return 0, fmt.Errorf("outbound: semaphore: %w", err)
	}
	return n, nil
}

// Delays for jobs the shared limits hold back: they go back to the due set
// (Scheduler.Defer: not an attempt) rather than waiting claimed.
const (
	trunkBusyDelay  = 2 * time.Second // the trunk is at trunk_max_concurrent
	limitErrorDelay = 5 * time.Second // a limit could not be checked (Redis error): fail closed
	maxRateWait     = 5 * time.Second // longest wait for a rate slot while holding a claim
)

// slots are the shared semaphore slots a job holds during its call.
type slots struct {
	lim    *Limits
	holder string
	lease  time.Duration
	log    *slog.Logger
	held   []Semaphore
}

// renew extends every held slot's lease (called in renewWhile's cadence).
func (s *slots) renew(ctx context.Context) {
	for _, sem := range s.held {
		ok, err := s.lim.Renew(ctx, sem, s.holder, s.lease)
		switch {
		case err != nil:
			s.log.Warn("outbound: call slot renewal", "err", err)
		case !ok:
			s.log.Warn("outbound: call slot lapsed and was taken meanwhile", "limit", sem.Key)
		}
	}
}

// release gives every held slot back, on a context the drain does not
// cancel (it runs from a defer, also when the call panics).
func (s *slots) release(ctx context.Context) {
	if len(s.held) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for _, sem := range s.held {
		if err := s.lim.Release(rctx, sem, s.holder); err != nil {
			s.log.Error("outbound: releasing a call slot (it lapses with its lease)", "err", err)
		}
	}
	s.held = nil
}

// admit holds the job to its limits before it is dialled: the campaign's
// shared concurrency, then one start that the instance pacer, the
// campaign's and the trunk's shared rates all allow (waited for on
// runCtx), then a trunk slot. The campaign slot is taken first so a busy
// campaign uses up no rate slot; the trunk slot last, so it is never held
// while the job sleeps for its start. A job held back is deferred
// (Scheduler.Defer, not an attempt) and admit returns false; it also
// returns false, deferring nothing, when runCtx ends (draining: Release
// hands the job back). On false it has released what it took; on true the
// caller must release the returned slots when the call ends.
func (w *Worker) admit(runCtx, ctx context.Context, j Job, camp *Campaign, log *slog.Logger) (*slots, bool) {
	held := &slots{lim: w.lim, holder: w.d.Scheduler.Owner() + "/" + j.member(), lease: w.d.Scheduler.Lease(), log: log}
	deferFor := func(d time.Duration, why string, err error) (*slots, bool) {
		held.release(ctx)
		if err != nil {
			log.Error("outbound: a call limit could not be checked; job deferred", "limit", why, "err", err)
		}
		if err := w.d.Scheduler.Defer(ctx, j, w.cfg.Now().Add(max(d, time.Second))); err != nil {
			log.Error("outbound: defer", "err", err)
		}
		return nil, false
	}
	take := func(s Semaphore) (bool, error) {
		ok, err := w.lim.Acquire(ctx, s, held.holder, held.lease)
		if ok {
			held.held = append(held.held, s)
		}
		return ok, err
	}

	var rates []Rate
	if camp != nil {
		if s, ok := w.lim.CampaignSlots(camp.ID, camp.Concurrency); ok {
			got, err := take(s)
			if err != nil {
				return deferFor(limitErrorDelay, "campaign concurrency", err)
			}
			if !got {
				return deferFor(campaignBusyDelay, "", nil)
			}
		}
		if r, ok := w.lim.CampaignRate(camp.ID, camp.CPS); ok {
			rates = append(rates, r)
		}
	}
	if r, ok := w.lim.TrunkRate(w.cfg.TrunkCPS); ok {
		rates = append(rates, r)
	}

	wait, ok, err := w.pace.slot(func(minWait time.Duration) (time.Duration, bool, error) {
		if len(rates) == 0 {
			return minWait, true, nil
		}
		r, err := w.lim.Reserve(ctx, rates, minWait, minWait+min(maxRateWait, w.d.Scheduler.Lease()/3))
		return r.Wait, r.OK, err
	})
	switch {
	case err != nil:
		return deferFor(limitErrorDelay, "rate", err)
	case !ok:
		return deferFor(wait+time.Second, "", nil) // Defer keeps whole seconds: not before the slot
	}
	if err := sleepCtx(runCtx, wait); err != nil || runCtx.Err() != nil {
		held.release(ctx)
		return nil, false
	}

	if s, ok := w.lim.TrunkSlots(w.cfg.TrunkMaxConcurrent); ok {
		got, err := take(s)
		if err != nil {
			return deferFor(limitErrorDelay, "trunk concurrency", err)
		}
		if !got {
			return deferFor(trunkBusyDelay, "", nil)
		}
	}
	return held, true
}

// slot reserves this instance's next start and, through shared (which
// gets the local wait as its minimum), a start that the shared rates
// allow too, and returns how long to wait for it. The pacer's lock is
// held across shared so the instance's starts stay in the order and at
// the spacing they were reserved in, whatever the shared wait. ok false
// (shared refused, nothing reserved) leaves the pacer as it was.
func (p *pacer) slot(shared func(minWait time.Duration) (time.Duration, bool, error)) (time.Duration, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	var d time.Duration
	if p.every > 0 && p.next.After(now) {
		d = p.next.Sub(now)
	}
	d, ok, err := shared(d)
	if err != nil || !ok {
		return d, ok, err
	}
	if p.every > 0 {
		p.next = now.Add(d + p.every)
	}
	return d, true, nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
