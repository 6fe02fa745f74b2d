package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"hotline/assistant/calendar"
	"hotline/telephony"
	"hotline/telephony/sipgw"
)

// Outcome is how an attempt ended.
type Outcome string

// The outcome taxonomy of the contact ledger.
const (
	OutcomeRightParty Outcome = "answered-right-party" // the debtor confirmed who they are
	OutcomeWrongParty Outcome = "wrong-party"          // someone else answered and said so
	OutcomeNoAnswer   Outcome = "no-answer"            // ring timeout, 408/480/487; or answered by silence (voicemail) or "the person is not here"
	OutcomeBusy       Outcome = "busy"                 // 486/600
	OutcomeFailed     Outcome = "failed"               // anything else (rejected, network, no media, no phone)
	OutcomeRefused    Outcome = "refused-by-gate"      // the compliance gate said no
)

// Outcomes lists the taxonomy in a stable order.
var Outcomes = []Outcome{OutcomeRightParty, OutcomeWrongParty, OutcomeNoAnswer, OutcomeBusy, OutcomeFailed, OutcomeRefused}

// Dialer places an outbound call and returns the answered leg
// (telephony/sipgw.Server satisfies it).
type Dialer interface {
	Dial(ctx context.Context, target string, headers map[string]string) (telephony.Leg, error)
}

var _ Dialer = (*sipgw.Server)(nil)

// Runner talks to whoever answered: the right-party check, then the
// verified conversation. It returns the attempt's outcome
// (OutcomeRightParty, OutcomeWrongParty, OutcomeNoAnswer or
// OutcomeFailed). The dialer
// hangs the leg up after RunOutbound returns.
type Runner interface {
	RunOutbound(ctx context.Context, leg telephony.Leg, job Job) (Outcome, error)
}

// Observer is told what the dialer does, for metrics
// (assistant/telemetry.Metrics implements it). Kinds are "callback",
// "campaign" (an attempt of a campaign) and "manual" (a one-off dial).
// Its methods must not block.
type Observer interface {
	// ObserveAttempt: a dialled attempt ended with outcome.
	ObserveAttempt(kind, outcome string)
	// ObserveRefusal: the gate refused an attempt under rule.
	ObserveRefusal(kind, rule string)
	// ObserveDialling: calls in flight changed by delta (+1 past the
	// gate, -1 when the call is over).
	ObserveDialling(delta int)
}

// nopObserver observes nothing.
type nopObserver struct{}

func (nopObserver) ObserveAttempt(string, string) {}
func (nopObserver) ObserveRefusal(string, string) {}
func (nopObserver) ObserveDialling(int)           {}

var _ Observer = nopObserver{}

// metricKind names a job's kind for an Observer.
func metricKind(j Job) string {
	switch {
	case j.Kind == KindCallback:
		return "callback"
	case j.CampaignID != "":
		return "campaign"
	}
	return "manual"
}

// PhoneBook finds the phone of a case (assistant/cases via an adapter in
// cmd/hotline) for jobs that carry only a case number.
type PhoneBook interface {
	Phone(ctx context.Context, caseNumber string) (string, error)
}

// ClassifyDialError maps a Dial error to an outcome (RFC 3261 §21 via
// sipgw's sentinels; a lapsed ring timeout is no-answer).
func ClassifyDialError(err error) Outcome {
	switch {
	case err == nil:
		return OutcomeRightParty
	case errors.Is(err, sipgw.ErrBusy):
		return OutcomeBusy
	case errors.Is(err, sipgw.ErrNoAnswer), errors.Is(err, context.DeadlineExceeded):
		return OutcomeNoAnswer
	}
	return OutcomeFailed
}

// WorkerConfig tunes the dialer. Zero fields take the defaults.
type WorkerConfig struct {
	MaxConcurrent int     // calls at once on this instance (4)
	CPS           float64 // new calls per second on this instance (1; <0: unlimited)
	// TrunkMaxConcurrent and TrunkCPS bound all instances on one Redis
	// together (shared limits, see limits.go; 0: none).
	TrunkMaxConcurrent int
	TrunkCPS           float64
	RingTimeout        time.Duration // give up ringing after this (30s)
	// Target turns a phone into a SIP URI: "{phone}" is replaced, e.g.
	// "sip:{phone}@trunk.example:5060" (default "sip:{phone}@127.0.0.1:5060").
	Target      string
	MaxAttempts int             // dial attempts per job (3)
	Backoff     []time.Duration // wait before attempt n+1 (15m, 1h, 4h; the last repeats)
	Poll        time.Duration   // how often to look for due work (1s)
	Now         func() time.Time
	Logger      *slog.Logger
	Observer    Observer // metrics (nil: none)
}

// WorkerDeps are the services the dialer uses. Campaigns and Phones may be nil.
type WorkerDeps struct {
	Scheduler *Scheduler
	Gate      *Gate
	Ledger    *Ledger
	Campaigns *Campaigns
	Dialer    Dialer
	Runner    Runner
	Phones    PhoneBook
	// Handoff, when set, takes due callbacks: they are queued for the
	// consultants (outbound.callbacks_to: consultants), not dialled.
	Handoff *Handoff
}

// Worker takes due jobs from the scheduler and dials them within the
// concurrency and rate limits, behind the gate, writing every attempt and
// outcome to the ledger. MaxConcurrent and CPS are per instance; the
// trunk's and campaigns' limits are shared by all instances (limits.go).
type Worker struct {
	cfg  WorkerConfig
	d    WorkerDeps
	log  *slog.Logger
	pace pacer
	lim  *Limits
	wake chan struct{}

	mu      sync.Mutex
	running int
	wg      sync.WaitGroup
}

// NewWorker returns a dialer worker.
func NewWorker(cfg WorkerConfig, d WorkerDeps) (*Worker, error) {
	if d.Scheduler == nil || d.Gate == nil || d.Ledger == nil || d.Dialer == nil || d.Runner == nil {
		return nil, errors.New("outbound: worker needs a scheduler, gate, ledger, dialer and runner")
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 4
	}
	if cfg.CPS == 0 {
		cfg.CPS = 1
	}
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = 30 * time.Second
	}
	if cfg.Target == "" {
		cfg.Target = "sip:{phone}@127.0.0.1:5060"
	}
	if !strings.Contains(cfg.Target, "{phone}") {
		return nil, fmt.Errorf("%w: target template %q has no {phone}", ErrInvalid, cfg.Target)
	}
	if cfg.TrunkMaxConcurrent < 0 || cfg.TrunkCPS < 0 {
		return nil, fmt.Errorf("%w: trunk limits must not be negative", ErrInvalid)
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
	w := &Worker{cfg: cfg, d: d, log: cfg.Logger, wake: make(chan struct{}, 1),
		lim: NewLimits(d.Scheduler.rdb, d.Scheduler.prefix)}
	if cfg.CPS > 0 {
		w.pace.every = time.Duration(float64(time.Second) / cfg.CPS)
	}
	return w, nil
}

// Wake makes Run look for due work now (after an enqueue).
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run dials due work until ctx ends. Then it stops claiming, hands the
// jobs it claimed but did not start back (Release), and waits for the
// calls in progress to end (the SIP server's drain ends them). Calls run
// on a context that ctx's cancellation does not reach.
func (w *Worker) Run(ctx context.Context) error {
	callCtx := context.WithoutCancel(ctx)
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	for {
		w.pass(ctx, callCtx)
		select {
		case <-ctx.Done():
			relCtx, cancel := context.WithTimeout(callCtx, 5*time.Second)
			n, err := w.d.Scheduler.Release(relCtx)
			cancel()
			if err != nil {
				w.log.Error("outbound: releasing claimed jobs", "err", err)
			} else if n > 0 {
				w.log.Info("outbound: handed claimed jobs back", "count", n)
			}
			w.wg.Wait()
			return nil
		case <-t.C:
		case <-w.wake:
		}
	}
}

// Running is the number of jobs this worker is handling.
func (w *Worker) Running() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.running
}

// pass re-queues lapsed claims, renews the leases of running jobs and
// claims as many jobs as there are free call slots.
func (w *Worker) pass(ctx, callCtx context.Context) {
	if ctx.Err() != nil {
		return
	}
	if _, err := w.d.Scheduler.RequeueExpired(ctx); err != nil && ctx.Err() == nil {
		w.log.Error("outbound: requeue", "err", err)
	}
	w.mu.Lock()
	free := w.cfg.MaxConcurrent - w.running
	w.mu.Unlock()
	if free <= 0 {
		return
	}
	jobs, err := w.d.Scheduler.Claim(ctx, free)
	if err != nil && ctx.Err() == nil {
		w.log.Error("outbound: claim", "err", err)
	}
	for _, j := range jobs {
		w.mu.Lock()
		w.running++
		w.mu.Unlock()
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			defer func() {
				w.mu.Lock()
				w.running--
				w.mu.Unlock()
			}()
			w.handle(ctx, callCtx, j)
		}()
	}
}

// campaignBusyDelay is how far a job whose campaign is at its concurrency
// is pushed back.
const campaignBusyDelay = 5 * time.Second

// handle works one claimed job to its next state. runCtx ends on drain:
// a job not started by then is left to Release; ctx (not cancelled by
// the drain) carries the call.
func (w *Worker) handle(runCtx, ctx context.Context, j Job) {
	log := w.log.With("job", j.ID, "kind", string(j.Kind))
	if j.Kind == KindCallback && w.d.Handoff != nil {
		w.d.Handoff.handOver(ctx, &j, log) // handoff.go: a consultant calls it back
		return
	}
	var window calendar.Hours
	var camp *Campaign // its shared limits apply (admit)
	if j.CampaignID != "" && w.d.Campaigns != nil {
		c, err := w.d.Campaigns.Get(ctx, j.CampaignID)
		switch {
		case err != nil && !errors.Is(err, ErrNotFound):
			// Without the campaign its window and limits are unknown:
			// fail closed.
			log.Error("outbound: campaign", "err", err)
			if err := w.d.Scheduler.Defer(ctx, j, w.cfg.Now().Add(limitErrorDelay)); err != nil {
				log.Error("outbound: defer", "err", err)
			}
			return
		case err != nil:
			log.Error("outbound: campaign", "err", err)
		case c.Status == CampaignPaused:
			if err := w.d.Scheduler.Park(ctx, &j); err != nil {
				log.Error("outbound: park", "err", err)
			}
			return
		default:
			window, camp = c.hours, &c
		}
	}
	// The shared and local call limits (limits.go): a job held back is
	// deferred; on drain Release hands it back.
	held, ok := w.admit(runCtx, ctx, j, camp, log)
	if !ok {
		return
	}
	defer held.release(ctx) // every path, a panicking runner too
	if err := w.d.Scheduler.Start(ctx, &j); err != nil {
		log.Warn("outbound: not starting a job", "err", err)
		return
	}
	stopRenew := w.renewWhile(ctx, j, log, held)
	defer stopRenew()

	phone := j.Phone
	if phone == "" && w.d.Phones != nil && j.CaseNumber != "" {
		p, err := w.d.Phones.Phone(ctx, j.CaseNumber)
		if err != nil {
			log.Warn("outbound: no phone for the case", "err", err)
		}
		phone = p
	}
	now := w.cfg.Now()
	att := Attempt{
		ID: j.ID + "-" + strconv.Itoa(j.Attempts+1), CaseNumber: j.CaseNumber, Phone: phone,
		CampaignID: j.CampaignID, At: now, Window: window,
	}
	if j.Kind == KindCallback {
		att.CallbackID = j.ID
	}
	entry := Entry{At: now, AttemptID: att.ID, CaseNumber: j.CaseNumber, Phone: phone, CampaignID: j.CampaignID, CallbackID: att.CallbackID}
	if err := w.d.Gate.Acquire(ctx, att); err != nil {
		w.refused(ctx, &j, entry, err, log)
		return
	}
	j.Attempts++
	entry.Event = EventDial
	w.append(ctx, entry, log)

	w.cfg.Observer.ObserveDialling(1)
	outcome, detail := w.call(ctx, j, att, log)
	w.cfg.Observer.ObserveDialling(-1)
	w.cfg.Observer.ObserveAttempt(metricKind(j), string(outcome))
	if err := w.d.Gate.End(ctx, att); err != nil {
		log.Error("outbound: clearing the live mark", "err", err)
	}
	entry.At, entry.Event, entry.Outcome, entry.Detail = w.cfg.Now(), EventOutcome, string(outcome), detail
	w.append(ctx, entry, log)
	w.conclude(ctx, &j, outcome, window, log)
}

// call dials the attempt and runs the conversation.
func (w *Worker) call(ctx context.Context, j Job, att Attempt, log *slog.Logger) (Outcome, string) {
	target := j.Target
	if target == "" {
		target = strings.ReplaceAll(w.cfg.Target, "{phone}", att.Phone)
	}
	ringCtx, cancel := context.WithTimeout(ctx, w.cfg.RingTimeout)
	leg, err := w.d.Dialer.Dial(ringCtx, target, map[string]string{"X-Hotline-Attempt": att.ID})
	cancel()
	if err != nil {
		o := ClassifyDialError(err)
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			o = OutcomeNoAnswer
		}
		// The error may quote the target's user part: log the class only.
		log.Info("outbound: dial ended without answer", "outcome", string(o))
		return o, dialDetail(err)
	}
	defer func() {
		hctx, c := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer c()
		_ = leg.Hangup(hctx, telephony.CauseBotHangup)
	}()
	o, err := w.d.Runner.RunOutbound(ctx, leg, j)
	if o == "" {
		o = OutcomeFailed
	}
	if err != nil {
		log.Warn("outbound: conversation ended with an error", "outcome", string(o), "err", err)
		return o, "runner error"
	}
	return o, ""
}

// dialDetail names the dial failure for the ledger without the target.
func dialDetail(err error) string {
	var de *sipgw.DialError
	if errors.As(err, &de) {
		return fmt.Sprintf("SIP %d %s", de.StatusCode, de.Reason)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, sipgw.ErrNoAnswer):
		return "ring timeout"
	case errors.Is(err, sipgw.ErrMediaUnusable):
		return "no usable media"
	case errors.Is(err, sipgw.ErrAtCapacity):
		return "sip at capacity"
	case errors.Is(err, sipgw.ErrDraining), errors.Is(err, sipgw.ErrNotServing):
		return "sip not serving"
	}
	return "dial error"
}

// refused records a gate refusal and plans the job's next step: a
// temporary rule moves it to the rule's RetryAt (no attempt used), a
// permanent one (do-not-call) or bad data ends it.
func (w *Worker) refused(ctx context.Context, j *Job, e Entry, err error, log *slog.Logger) {
	e.Event, e.Outcome = EventRefused, string(OutcomeRefused)
	var retryAt time.Time
	e.Rule, e.Detail, retryAt = refusalPlan(err) // retry.go, shared with the consultants' hand-off
	w.cfg.Observer.ObserveRefusal(metricKind(*j), e.Rule)
	w.append(ctx, e, log)
	j.Outcome = OutcomeRefused
	if !retryAt.IsZero() {
		if err := w.d.Scheduler.Retry(ctx, j, retryAt); err != nil {
			log.Error("outbound: retry", "err", err)
		}
		return
	}
	if err := w.d.Scheduler.Finish(ctx, j, StatusFailed); err != nil {
		log.Error("outbound: finish", "err", err)
	}
	w.record(ctx, *j, OutcomeRefused, true, log)
}

// conclude finishes the job or plans a retry inside the gate's rules
// (retryPolicy, shared with the consultants' hand-off).
func (w *Worker) conclude(ctx context.Context, j *Job, o Outcome, window calendar.Hours, log *slog.Logger) {
	j.Outcome = o
	status, at := w.policy().next(w.cfg.Now(), j.Attempts, o, window)
	if status != StatusRetry {
		if err := w.d.Scheduler.Finish(ctx, j, status); err != nil {
			log.Error("outbound: finish", "err", err)
		}
		w.record(ctx, *j, o, true, log)
		return
	}
	if err := w.d.Scheduler.Retry(ctx, j, at); err != nil {
		log.Error("outbound: retry", "err", err)
	}
	w.record(ctx, *j, o, false, log)
}

// RetryAt is when to try again after the given number of attempts:
// max(now + backoff, the next instant the gate allows).
func (w *Worker) RetryAt(now time.Time, attempts int, window calendar.Hours) time.Time {
	return w.policy().retryAt(now, attempts, window)
}

func (w *Worker) policy() retryPolicy {
	return retryPolicy{maxAttempts: w.cfg.MaxAttempts, backoff: w.cfg.Backoff, gate: w.d.Gate}
}

func (w *Worker) record(ctx context.Context, j Job, o Outcome, final bool, log *slog.Logger) {
	if j.CampaignID == "" || w.d.Campaigns == nil {
		return
	}
	if err := w.d.Campaigns.Record(ctx, j.CampaignID, o, final); err != nil {
		log.Error("outbound: campaign counters", "err", err)
	}
}

func (w *Worker) append(ctx context.Context, e Entry, log *slog.Logger) {
	if err := w.d.Ledger.Append(ctx, e); err != nil {
		log.Error("outbound: ledger append failed", "event", e.Event, "err", err)
	}
}

// renewWhile renews the job's lease, and the leases of the shared call
// slots it holds (held, optional), every third of the lease (and every
// poll, so an injected clock that moves fast is followed) until stopped.
func (w *Worker) renewWhile(ctx context.Context, j Job, log *slog.Logger, held ...*slots) (stop func()) {
	every := min(w.d.Scheduler.Lease()/3, w.cfg.Poll)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := w.d.Scheduler.Renew(ctx, j); err != nil {
					log.Warn("outbound: lease renewal", "err", err)
				}
				for _, h := range held {
					h.renew(ctx)
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// pacer spaces call starts at least every apart (real time: it protects
// the trunk, not a rule).
type pacer struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

// wait takes the instance's next start and waits for it (the dialer
// reserves through slot, with the shared rates).
func (p *pacer) wait(ctx context.Context) error {
	d, _, _ := p.slot(func(minWait time.Duration) (time.Duration, bool, error) { return minWait, true, nil })
	return sleepCtx(ctx, d)
}
