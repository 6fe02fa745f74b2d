package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/calendar"
	"hotline/assistant/callbacks"
)

// The consultants' hand-off (outbound.callbacks_to: consultants): a due
// callback is not dialled but moved from the in-flight set (so no lease
// expiry puts it back) to a list a consultant works from the console. A
// consultant takes one (the compliance gate decides, as for a dial),
// calls the debtor from their own phone and reports the outcome, which
// finishes the callback or plans its retry exactly as the dialer would.
//
// Hand-off keys, relative to the prefix:
//
//	<prefix>outbound:handoff        zset callback id → unix seconds it was handed over
//	<prefix>outbound:handoff:taker  hash callback id → the consultant (console user) who took it
//	<prefix>outbound:handoff:held   zset callback id → the taker's hold expiry (unix ms)
const (
	keyHandoff      = "outbound:handoff"
	keyHandoffTaker = "outbound:handoff:taker"
	keyHandoffHeld  = "outbound:handoff:held"
)

// StatusConsultant is the status of a callback handed to the consultants
// (waiting, or taken by one of them).
const StatusConsultant = callbacks.StatusConsultant

// EventReleased is the ledger event of a taken callback given back
// without an outcome: the consultant released it, or their hold lapsed.
const EventReleased = "released"

// Sentinel errors of the hand-off (the console maps them to 409).
var (
	// ErrTaken: another consultant took the callback first.
	ErrTaken = errors.New("outbound: the callback is taken by another consultant")
	// ErrNotTaker: only the consultant who took a callback reports or
	// releases it.
	ErrNotTaker = errors.New("outbound: the callback is not taken by this consultant")
)

// consultantOutcomes are the outcomes a consultant may report, by the
// words of the console API.
var consultantOutcomes = map[string]Outcome{
	"right-party": OutcomeRightParty,
	"wrong-party": OutcomeWrongParty,
	"no-answer":   OutcomeNoAnswer,
	"busy":        OutcomeBusy,
}

// ParseConsultantOutcome maps a consultant's report ("right-party",
// "wrong-party", "no-answer", "busy"; the ledger's
// "answered-right-party" too) to an outcome. Anything else wraps
// ErrInvalid.
func ParseConsultantOutcome(s string) (Outcome, error) {
	if o, ok := consultantOutcomes[s]; ok {
		return o, nil
	}
	if s == string(OutcomeRightParty) {
		return OutcomeRightParty, nil
	}
	return "", fmt.Errorf("%w: outcome must be right-party, wrong-party, no-answer or busy", ErrInvalid)
}

// Task is a callback waiting for a consultant, as the console lists it.
type Task struct {
	ID         string `json:"id"` // the callback id
	CaseNumber string `json:"case_number,omitempty"`
	// Phone is masked but for its last 3 digits, except for the
	// consultant who took the callback.
	Phone       string     `json:"phone"`
	At          time.Time  `json:"at"`     // the booked time (slot)
	DueAt       time.Time  `json:"due_at"` // when it was handed to the consultants
	Attempts    int        `json:"attempts"`
	LastOutcome string     `json:"last_outcome,omitempty"`
	Source      string     `json:"source,omitempty"` // call, form or api
	TakenBy     string     `json:"taken_by,omitempty"`
	HeldUntil   *time.Time `json:"held_until,omitempty"` // the taker's hold; then it returns to the list
}

// HandoffConfig tunes the hand-off. Zero fields take the defaults, which
// match the dialer's (WorkerConfig).
type HandoffConfig struct {
	// Hold is how long a taken callback stays with its consultant without
	// a report; then the next List or Take gives it back (30m).
	Hold        time.Duration
	MaxAttempts int             // attempts per callback, the consultants' and the dialer's together (3)
	Backoff     []time.Duration // wait before attempt n+1 (15m, 1h, 4h; the last repeats)
	Poll        time.Duration   // how often Run looks for due callbacks (1s)
	Now         func() time.Time
	Logger      *slog.Logger
	Observer    Observer // metrics (nil: none)
}

// HandoffDeps are the services the hand-off uses. The scheduler must
// have the callback service; Phones may be nil.
type HandoffDeps struct {
	Scheduler *Scheduler
	Gate      *Gate
	Ledger    *Ledger
	Phones    PhoneBook
}

// Handoff queues due callbacks for the consultants and runs their take,
// report and release. It is safe for concurrent use by any number of
// instances on one Redis: every transition is one script.
type Handoff struct {
	cfg    HandoffConfig
	d      HandoffDeps
	log    *slog.Logger
	policy retryPolicy
	// deferLogged: Run told the log once that it defers attempts.
	deferLogged atomic.Bool
}

// NewHandoff returns the consultants' hand-off.
func NewHandoff(cfg HandoffConfig, d HandoffDeps) (*Handoff, error) {
	if d.Scheduler == nil || d.Scheduler.cbs == nil || d.Gate == nil || d.Ledger == nil {
		return nil, errors.New("outbound: the hand-off needs a scheduler with callbacks, a gate and a ledger")
	}
	if cfg.Hold <= 0 {
		cfg.Hold = 30 * time.Minute
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	if len(cfg.Backoff) == 0 {
		cfg.Backoff = []time.Duration{15 * time.Minute, time.Hour, 4 * time.Hour}
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	return &Handoff{cfg: cfg, d: d, log: cfg.Logger,
		policy: retryPolicy{maxAttempts: cfg.MaxAttempts, backoff: cfg.Backoff, gate: d.Gate}}, nil
}

// Hold is how long a taken callback stays with its consultant.
func (h *Handoff) Hold() time.Duration { return h.cfg.Hold }

func (h *Handoff) keys() []string {
	p := h.d.Scheduler.prefix
	return []string{p + keyHandoff, p + keyHandoffTaker, p + keyHandoffHeld, h.d.Scheduler.cbDueKey()}
}

// HandOver moves a claimed callback from the in-flight set to the
// consultants' list and marks its record StatusConsultant. It fails with
// ErrLeaseLost when the claim is no longer this instance's.
func (h *Handoff) HandOver(ctx context.Context, j *Job) error {
	if j.Kind != KindCallback {
		return fmt.Errorf("%w: only callbacks go to the consultants", ErrInvalid)
	}
	if err := h.d.Scheduler.move(ctx, *j, "move", h.keys()[0], h.cfg.Now().Unix(), j.ID); err != nil {
		return err
	}
	j.Status = StatusConsultant
	return h.d.Scheduler.save(ctx, *j)
}

// handOver is HandOver for the dialer's worker, which logs.
func (h *Handoff) handOver(ctx context.Context, j *Job, log *slog.Logger) {
	if err := h.HandOver(ctx, j); err != nil {
		log.Warn("outbound: handing a callback to the consultants", "err", err)
		return
	}
	log.Info("outbound: callback queued for a consultant")
}

// takeScript gives a waiting callback to one consultant.
//
// KEYS: 1 hand-off zset, 2 taker hash, 3 held zset.
// ARGV: 1 id, 2 user, 3 now (unix ms), 4 hold expiry (unix ms).
// Returns "ok", "mine" (taken by this user already), "taken" or "gone".
var takeScript = redis.NewScript(`
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 'gone' end
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if cur then
  if cur == ARGV[2] then return 'mine' end
  return 'taken'
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
return 'ok'
`)

// settleScript ends a consultant's hold on a callback, if the callback is
// still theirs: "release" leaves it in the list, "finish" removes it,
// "retry" moves it back to the callbacks' due set at a score.
//
// KEYS: 1 hand-off zset, 2 taker hash, 3 held zset, 4 callbacks due.
// ARGV: 1 id, 2 user, 3 op, 4 due score (unix s, retry).
// Returns 1 done, 0 not this user's, -1 not in the list.
var settleScript = redis.NewScript(`
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return -1 end
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if ARGV[3] == 'release' then return 1 end
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[3] == 'retry' then redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1]) end
return 1
`)

// expireScript gives back the callbacks whose hold lapsed (they stay in
// the list, untaken).
//
// KEYS: as settleScript. ARGV: 1 now (unix ms), 2 limit.
// Returns id, user, id, user, …
var expireScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[3], id)
  local u = redis.call('HGET', KEYS[2], id)
  redis.call('HDEL', KEYS[2], id)
  if u then
    out[#out + 1] = id
    out[#out + 1] = u
  end
end
return out
`)

// handoffBatch bounds one expiry pass, one List and one Run claim.
const handoffBatch = 200

// settle runs settleScript and maps its answer.
func (h *Handoff) settle(ctx context.Context, id, user, op string, at time.Time) error {
	var score int64
	if !at.IsZero() {
		score = at.Unix()
	}
	n, err := settleScript.Run(ctx, h.d.Scheduler.rdb, h.keys(), id, user, op, score).Int()
	switch {
	case err != nil:
		return fmt.Errorf("outbound: hand-off %s: %w", op, err)
	case n == -1:
		return fmt.Errorf("outbound: callback %s: %w", id, ErrNotFound)
	case n == 0:
		return ErrNotTaker
	}
	return nil
}

// expire gives back the callbacks whose hold lapsed: their live marks
// end and the ledger says so; the attempt is not counted.
func (h *Handoff) expire(ctx context.Context) error {
	pairs, err := expireScript.Run(ctx, h.d.Scheduler.rdb, h.keys(), h.cfg.Now().UnixMilli(), handoffBatch).StringSlice()
	if err != nil {
		return fmt.Errorf("outbound: hand-off expiry: %w", err)
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		id, user := pairs[i], pairs[i+1]
		h.log.Warn("outbound: a consultant's hold on a callback lapsed without a report", "callback", id, "user", user)
		cb, err := h.d.Scheduler.cbs.Get(ctx, id)
		if err != nil {
			continue // gone: List drops it
		}
		h.letGo(ctx, cb, "hold lapsed (consultant "+user+")")
	}
	return nil
}

// letGo ends the live mark of a taken callback that goes back untouched
// and writes the ledger's "released" entry.
func (h *Handoff) letGo(ctx context.Context, cb callbacks.Callback, detail string) {
	j := jobOf(cb)
	att, entry := h.attempt(ctx, j, h.cfg.Now())
	if err := h.d.Gate.End(ctx, att); err != nil {
		h.log.Error("outbound: clearing the live mark", "callback", cb.ID, "err", err)
	}
	entry.Event, entry.Detail = EventReleased, detail
	h.append(ctx, entry)
}

// jobOf is the scheduler's job of a callback record.
func jobOf(cb callbacks.Callback) Job {
	return Job{
		ID: cb.ID, Kind: KindCallback, CaseNumber: cb.CaseNumber, Phone: cb.Phone,
		Attempts: cb.Attempts, Status: cb.Status, Outcome: Outcome(cb.Outcome), DueAt: cb.At, CreatedAt: cb.CreatedAt,
	}
}

// phone is the number to call: the callback's own, else its case's.
func (h *Handoff) phone(ctx context.Context, j Job) string {
	if j.Phone != "" || h.d.Phones == nil || j.CaseNumber == "" {
		return j.Phone
	}
	p, err := h.d.Phones.Phone(ctx, j.CaseNumber)
	if err != nil {
		h.log.Warn("outbound: no phone for the case", "callback", j.ID, "err", err)
	}
	return p
}

// attempt is the job's next attempt (the id the dialer would give it)
// and its ledger entry.
func (h *Handoff) attempt(ctx context.Context, j Job, now time.Time) (Attempt, Entry) {
	phone := h.phone(ctx, j)
	att := Attempt{ID: j.ID + "-" + strconv.Itoa(j.Attempts+1), CaseNumber: j.CaseNumber, Phone: phone, CallbackID: j.ID, At: now}
	return att, Entry{At: now, AttemptID: att.ID, CaseNumber: j.CaseNumber, Phone: phone, CallbackID: j.ID}
}

func (h *Handoff) append(ctx context.Context, e Entry) {
	if err := h.d.Ledger.Append(ctx, e); err != nil {
		h.log.Error("outbound: ledger append failed", "event", e.Event, "err", err)
	}
}

// record reads a callback; a missing one is ErrNotFound.
func (h *Handoff) record(ctx context.Context, id string) (callbacks.Callback, error) {
	cb, err := h.d.Scheduler.cbs.Get(ctx, id)
	if errors.Is(err, callbacks.ErrNotFound) {
		return cb, fmt.Errorf("outbound: callback %s: %w", id, ErrNotFound)
	}
	return cb, err
}

// Take gives the callback to user, if the compliance gate allows a call
// to the debtor now (window, holidays, weekly cap, do-not-call, another
// call in progress): the attempt is counted and the debtor marked live,
// as for a dial, the ledger gets a "dial" entry naming the consultant,
// and the task comes back with the full phone number. Taking a callback
// user holds already returns it again. Errors: ErrNotFound (not waiting
// for a consultant), ErrTaken (someone else was first), a *RefusedError
// (the gate said no: the callback is planned as the dialer would plan it,
// for the rule's RetryAt or, for do-not-call, finished), ErrInvalid (no
// valid phone: the callback is finished).
func (h *Handoff) Take(ctx context.Context, id, user string) (Task, error) {
	if user == "" {
		return Task{}, fmt.Errorf("%w: no consultant", ErrInvalid)
	}
	if err := h.expire(ctx); err != nil {
		return Task{}, err
	}
	cb, err := h.record(ctx, id)
	if err != nil {
		return Task{}, err
	}
	now := h.cfg.Now()
	until := now.Add(h.cfg.Hold)
	res, err := takeScript.Run(ctx, h.d.Scheduler.rdb, h.keys()[:3], id, user, now.UnixMilli(), until.UnixMilli()).Text()
	if err != nil {
		return Task{}, fmt.Errorf("outbound: take: %w", err)
	}
	j := jobOf(cb)
	t := taskOf(cb, now)
	t.TakenBy, t.HeldUntil = user, &until
	switch res {
	case "gone":
		return Task{}, fmt.Errorf("outbound: callback %s: %w", id, ErrNotFound)
	case "taken":
		return Task{}, ErrTaken
	case "mine":
		t.HeldUntil = nil
		if s, err := h.d.Scheduler.rdb.ZScore(ctx, h.keys()[2], id).Result(); err == nil {
			u := time.UnixMilli(int64(s))
			t.HeldUntil = &u
		}
		t.Phone = h.phone(ctx, j)
		return t, nil
	}
	att, entry := h.attempt(ctx, j, now)
	if err := h.d.Gate.Acquire(ctx, att); err != nil {
		if !errors.Is(err, ErrRefused) && !errors.Is(err, ErrInvalid) {
			// The gate could not decide (Redis): give the callback back
			// untouched.
			if serr := h.settle(ctx, id, user, "release", time.Time{}); serr != nil {
				h.log.Error("outbound: giving a callback back", "callback", id, "err", serr)
			}
			return Task{}, err
		}
		h.refused(ctx, j, user, entry, err)
		return Task{}, err
	}
	entry.Event, entry.Detail = EventDial, "consultant "+user
	h.append(ctx, entry)
	h.log.Info("outbound: a consultant took a callback", "callback", id, "user", user)
	t.Phone = att.Phone
	return t, nil
}

// refused records a gate refusal of a take and plans the callback as the
// dialer's Worker.refused does: a temporary rule puts it back in the due
// set at the rule's RetryAt (no attempt used), a permanent one or bad
// data finishes it.
func (h *Handoff) refused(ctx context.Context, j Job, user string, e Entry, err error) {
	var retryAt time.Time
	e.Event, e.Outcome = EventRefused, string(OutcomeRefused)
	e.Rule, e.Detail, retryAt = refusalPlan(err)
	e.Detail += " (consultant " + user + ")"
	h.cfg.Observer.ObserveRefusal(metricKind(j), e.Rule)
	h.append(ctx, e)
	op, status := "finish", StatusFailed
	if !retryAt.IsZero() {
		op, status = "retry", StatusRetry
	}
	if err := h.settle(ctx, j.ID, user, op, retryAt); err != nil {
		h.log.Error("outbound: planning a refused callback", "callback", j.ID, "err", err)
		return
	}
	j.Status, j.Outcome = status, OutcomeRefused
	if err := h.d.Scheduler.save(ctx, j); err != nil {
		h.log.Error("outbound: callback status", "callback", j.ID, "err", err)
	}
	h.log.Info("outbound: the gate refused a consultant's callback", "callback", j.ID, "rule", e.Rule, "status", status)
}

// Report records the outcome of the call user made for a callback they
// took (OutcomeRightParty, OutcomeWrongParty, OutcomeNoAnswer or
// OutcomeBusy): the attempt counts, the debtor's live mark ends, the
// ledger gets the outcome entry, and the callback is done, failed (no
// attempts left) or planned for a retry after the backoff inside the
// calling window, exactly as the dialer concludes (retryPolicy). Errors:
// ErrNotFound, ErrNotTaker, ErrInvalid (another outcome).
func (h *Handoff) Report(ctx context.Context, id, user string, o Outcome) error {
	if _, ok := consultantOutcome(o); !ok {
		return fmt.Errorf("%w: outcome %q cannot be reported by a consultant", ErrInvalid, o)
	}
	cb, err := h.record(ctx, id)
	if err != nil {
		return err
	}
	j := jobOf(cb)
	now := h.cfg.Now()
	att, entry := h.attempt(ctx, j, now)
	j.Attempts++
	status, at := h.policy.next(now, j.Attempts, o, calendar.Hours{})
	op := "finish"
	if status == StatusRetry {
		op = "retry"
	}
	if err := h.settle(ctx, id, user, op, at); err != nil {
		return err
	}
	if err := h.d.Gate.End(ctx, att); err != nil {
		h.log.Error("outbound: clearing the live mark", "callback", id, "err", err)
	}
	entry.Event, entry.Outcome, entry.Detail = EventOutcome, string(o), "consultant "+user
	h.append(ctx, entry)
	h.cfg.Observer.ObserveAttempt(metricKind(j), string(o))
	j.Status, j.Outcome = status, o
	if err := h.d.Scheduler.save(ctx, j); err != nil {
		return fmt.Errorf("outbound: callback status: %w", err)
	}
	h.log.Info("outbound: a consultant reported a callback", "callback", id, "user", user, "outcome", string(o), "status", status)
	return nil
}

func consultantOutcome(o Outcome) (string, bool) {
	for k, v := range consultantOutcomes {
		if v == o {
			return k, true
		}
	}
	return "", false
}

// Release gives a callback user took back to the list untouched: no
// attempt is counted (a later take reuses the attempt id, so the weekly
// cap counts it once) and the debtor's live mark ends. Errors:
// ErrNotFound, ErrNotTaker.
func (h *Handoff) Release(ctx context.Context, id, user string) error {
	cb, err := h.record(ctx, id)
	if err != nil {
		return err
	}
	if err := h.settle(ctx, id, user, "release", time.Time{}); err != nil {
		return err
	}
	h.letGo(ctx, cb, "released by consultant "+user)
	h.log.Info("outbound: a consultant gave a callback back", "callback", id, "user", user)
	return nil
}

// attemptDeferral is how far Run pushes back an attempt it claimed: only
// the dialer places attempts.
const attemptDeferral = time.Minute

// Run hands due callbacks to the consultants until ctx ends, for an
// instance without a dialer (outbound.enabled off): it claims due work
// as the dialer would, queues the callbacks for the consultants and
// defers campaign and one-off attempts (they wait for a dialer). It also
// gives back lapsed holds.
func (h *Handoff) Run(ctx context.Context) error {
	t := time.NewTicker(h.cfg.Poll)
	defer t.Stop()
	for {
		h.pass(ctx)
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_, err := h.d.Scheduler.Release(rctx)
			cancel()
			if err != nil {
				h.log.Error("outbound: releasing claimed jobs", "err", err)
			}
			return nil
		case <-t.C:
		}
	}
}

// pass is one round of Run.
func (h *Handoff) pass(ctx context.Context) {
	s := h.d.Scheduler
	if _, err := s.RequeueExpired(ctx); err != nil && ctx.Err() == nil {
		h.log.Error("outbound: requeue", "err", err)
	}
	if err := h.expire(ctx); err != nil && ctx.Err() == nil {
		h.log.Error("outbound: hand-off expiry", "err", err)
	}
	jobs, err := s.Claim(ctx, handoffBatch)
	if err != nil && ctx.Err() == nil {
		h.log.Error("outbound: claim", "err", err)
	}
	for _, j := range jobs {
		log := h.log.With("job", j.ID, "kind", string(j.Kind))
		if j.Kind == KindCallback {
			h.handOver(ctx, &j, log)
			continue
		}
		if h.deferLogged.CompareAndSwap(false, true) {
			log.Warn("outbound: campaign and one-off attempts wait: outbound.enabled is off, only callbacks go to the consultants")
		}
		if err := s.Defer(ctx, j, h.cfg.Now().Add(attemptDeferral)); err != nil {
			log.Error("outbound: defer", "err", err)
		}
	}
}
