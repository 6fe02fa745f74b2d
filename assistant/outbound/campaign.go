package outbound

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/calendar"
)

// Campaign keys, relative to the prefix.
const (
	keyCampaign  = "outbound:campaign:"
	keyCampaigns = "outbound:campaigns"
)

// Campaign statuses.
const (
	CampaignActive = "active"
	CampaignPaused = "paused"
	CampaignDone   = "done" // every job finished for good (derived)
)

// MaxCampaignCases bounds one campaign.
const MaxCampaignCases = 10000

// maxConcurrency and maxCampaignCPS bound a campaign's limits.
const (
	maxConcurrency = 100
	maxCampaignCPS = 100
)

// FieldError is one problem with one input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists field problems; it matches ErrInvalid.
type ValidationError struct{ Fields []FieldError }

// Error implements error.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "outbound: invalid input: " + strings.Join(parts, "; ")
}

// Is makes validation errors match ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// CampaignSpec is what an operator submits.
type CampaignSpec struct {
	Name        string    `json:"name"`
	CaseNumbers []string  `json:"case_numbers"`
	Window      string    `json:"window,omitempty"`      // hours rules further restricting the gate window
	Concurrency int       `json:"concurrency,omitempty"` // calls at once across all instances (0: no campaign limit)
	CPS         float64   `json:"cps,omitempty"`         // new calls per second across all instances (0: no campaign limit)
	StartAt     time.Time `json:"start_at,omitzero"`     // first attempts due (default now)
}

// Campaign is a stored campaign with its progress.
type Campaign struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Status      string  `json:"status"`
	Window      string  `json:"window,omitempty"`
	Concurrency int     `json:"concurrency"` // calls at once across all instances (0: no limit)
	CPS         float64 `json:"cps"`         // new calls per second across all instances (0: no limit)
	Total       int     `json:"total"`       // jobs (case numbers)
	Finished    int     `json:"finished"`    // jobs ended for good
	Pending     int     `json:"pending"`     // Total - Finished
	Attempts    int     `json:"attempts"`    // every dial attempt and refusal
	// Outcomes counts every attempt's outcome; Final the outcome that
	// ended each finished job.
	Outcomes  map[Outcome]int `json:"outcomes"`
	Final     map[Outcome]int `json:"final"`
	CreatedAt time.Time       `json:"created_at"`

	hours calendar.Hours
}

// Campaigns stores campaigns and enqueues their attempts.
type Campaigns struct {
	rdb    redis.UniversalClient
	prefix string
	sched  *Scheduler
	loc    *time.Location
	now    func() time.Time
}

// NewCampaigns returns the campaign store. loc is where campaign windows
// are evaluated (the gate's window location).
func NewCampaigns(rdb redis.UniversalClient, prefix string, sched *Scheduler, loc *time.Location, now func() time.Time) *Campaigns {
	if now == nil {
		now = time.Now
	}
	if loc == nil {
		loc = calendar.Warsaw()
	}
	return &Campaigns{rdb: rdb, prefix: prefix, sched: sched, loc: loc, now: now}
}

func (c *Campaigns) key(id string) string { return c.prefix + keyCampaign + id }

// Validate checks a spec and returns its parsed window.
func (c *Campaigns) Validate(spec CampaignSpec) (calendar.Hours, error) {
	var fe []FieldError
	add := func(f, format string, args ...any) { fe = append(fe, FieldError{f, fmt.Sprintf(format, args...)}) }
	if len(spec.Name) > 200 {
		add("name", "at most 200 characters")
	}
	switch n := len(spec.CaseNumbers); {
	case n == 0:
		add("case_numbers", "at least one case number is required")
	case n > MaxCampaignCases:
		add("case_numbers", "at most %d case numbers per campaign, got %d", MaxCampaignCases, n)
	}
	seen := make(map[string]int, len(spec.CaseNumbers))
	for i, cn := range spec.CaseNumbers {
		if len(fe) >= 20 {
			add("case_numbers", "more errors not shown")
			break
		}
		f := fmt.Sprintf("case_numbers[%d]", i)
		if !validCase(cn) {
			add(f, "must be 1-%d printable characters without spaces", maxCaseLen)
			continue
		}
		if j, dup := seen[cn]; dup {
			add(f, "duplicate of case_numbers[%d]", j)
			continue
		}
		seen[cn] = i
	}
	var h calendar.Hours
	if spec.Window != "" {
		var err error
		if h, err = calendar.ParseHours(c.loc, spec.Window); err != nil {
			add("window", "%v", err)
		}
	}
	if spec.Concurrency < 0 || spec.Concurrency > maxConcurrency {
		add("concurrency", "must be 0..%d", maxConcurrency)
	}
	if !(spec.CPS >= 0 && spec.CPS <= maxCampaignCPS) { // NaN too
		add("cps", "must be 0..%d calls per second", maxCampaignCPS)
	}
	if len(fe) > 0 {
		return calendar.Hours{}, &ValidationError{Fields: fe}
	}
	return h, nil
}

// Create validates the spec and stores the campaign and all its attempt
// jobs in one transaction: on any error nothing is stored.
func (c *Campaigns) Create(ctx context.Context, spec CampaignSpec) (Campaign, error) {
	h, err := c.Validate(spec)
	if err != nil {
		return Campaign{}, err
	}
	now := c.now()
	start := spec.StartAt
	if start.IsZero() || start.Before(now) {
		start = now
	}
	camp := Campaign{
		ID: newID(), Name: spec.Name, Status: CampaignActive, Window: h.String(), Concurrency: spec.Concurrency,
		CPS: spec.CPS, Total: len(spec.CaseNumbers), CreatedAt: now, hours: h,
	}
	_, err = c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, c.key(camp.ID), map[string]any{
			"id": camp.ID, "name": camp.Name, "status": camp.Status, "window": camp.Window,
			"concurrency": camp.Concurrency, "cps": strconv.FormatFloat(camp.CPS, 'g', -1, 64),
			"total": camp.Total, "created_at": now.UTC().Format(time.RFC3339Nano),
		})
		p.ZAdd(ctx, c.prefix+keyCampaigns, redis.Z{Score: float64(now.UnixMilli()), Member: camp.ID})
		for _, cn := range spec.CaseNumbers {
			j := Job{ID: newID(), Kind: KindAttempt, CaseNumber: cn, CampaignID: camp.ID,
				Status: StatusScheduled, DueAt: start, CreatedAt: now}
			data, err := json.Marshal(j)
			if err != nil {
				return err
			}
			p.Set(ctx, c.sched.jobKey(j.ID), data, c.sched.cfg.Retention)
			p.ZAdd(ctx, c.sched.dueKey(), redis.Z{Score: float64(start.Unix()), Member: j.ID})
		}
		return nil
	})
	if err != nil {
		return Campaign{}, fmt.Errorf("outbound: create campaign: %w", err)
	}
	return c.Get(ctx, camp.ID)
}

// Get returns a campaign with its progress.
func (c *Campaigns) Get(ctx context.Context, id string) (Campaign, error) {
	m, err := c.rdb.HGetAll(ctx, c.key(id)).Result()
	if err != nil {
		return Campaign{}, fmt.Errorf("outbound: campaign: %w", err)
	}
	if len(m) == 0 {
		return Campaign{}, fmt.Errorf("outbound: campaign %s: %w", id, ErrNotFound)
	}
	num := func(k string) int { n, _ := strconv.Atoi(m[k]); return n }
	camp := Campaign{
		ID: m["id"], Name: m["name"], Status: m["status"], Window: m["window"],
		Concurrency: num("concurrency"), Total: num("total"), Finished: num("finished"), Attempts: num("attempts"),
		Outcomes: map[Outcome]int{}, Final: map[Outcome]int{},
	}
	camp.CreatedAt, _ = time.Parse(time.RFC3339Nano, m["created_at"])
	camp.CPS, _ = strconv.ParseFloat(m["cps"], 64) // absent in campaigns created before cps: 0
	for _, o := range Outcomes {
		if n := num("attempt:" + string(o)); n > 0 {
			camp.Outcomes[o] = n
		}
		if n := num("final:" + string(o)); n > 0 {
			camp.Final[o] = n
		}
	}
	camp.Pending = max(camp.Total-camp.Finished, 0)
	if camp.Pending == 0 && camp.Total > 0 {
		camp.Status = CampaignDone
	}
	if camp.Window != "" {
		if camp.hours, err = calendar.ParseHours(c.loc, camp.Window); err != nil {
			return Campaign{}, fmt.Errorf("outbound: campaign %s window: %w", id, err)
		}
	}
	return camp, nil
}

// setStatusScript changes a campaign's status if it exists.
var setStatusScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
return 1
`)

func (c *Campaigns) setStatus(ctx context.Context, id, status string) error {
	n, err := setStatusScript.Run(ctx, c.rdb, []string{c.key(id)}, status).Int()
	if err != nil {
		return fmt.Errorf("outbound: campaign: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("outbound: campaign %s: %w", id, ErrNotFound)
	}
	return nil
}

// Pause stops new attempts of the campaign: its jobs are parked as the
// dialer meets them; calls in progress finish. Pausing twice is harmless.
func (c *Campaigns) Pause(ctx context.Context, id string) (Campaign, error) {
	if err := c.setStatus(ctx, id, CampaignPaused); err != nil {
		return Campaign{}, err
	}
	return c.Get(ctx, id)
}

// Resume lets the campaign dial again and returns its parked jobs to the
// due set. Resuming twice is harmless.
func (c *Campaigns) Resume(ctx context.Context, id string) (Campaign, error) {
	if err := c.setStatus(ctx, id, CampaignActive); err != nil {
		return Campaign{}, err
	}
	if _, err := c.sched.Unpark(ctx, id); err != nil {
		return Campaign{}, err
	}
	return c.Get(ctx, id)
}

// Record counts an attempt's outcome; final marks the job finished.
func (c *Campaigns) Record(ctx context.Context, id string, o Outcome, final bool) error {
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, c.key(id), "attempts", 1)
		p.HIncrBy(ctx, c.key(id), "attempt:"+string(o), 1)
		if final {
			p.HIncrBy(ctx, c.key(id), "finished", 1)
			p.HIncrBy(ctx, c.key(id), "final:"+string(o), 1)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbound: campaign counters: %w", err)
	}
	return nil
}

// ParseCaseCSV reads case numbers from CSV: one per row in the column
// named case_number (any other columns are ignored), or, without such a
// header, the first column of every row. Blank rows are skipped.
func ParseCaseCSV(r io.Reader) ([]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	col, line := 0, 0
	var out []string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			return nil, &ValidationError{Fields: []FieldError{{"csv", err.Error()}}}
		}
		if line == 1 {
			found := false
			for i, h := range rec {
				if strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")), "case_number") {
					col, found = i, true
				}
			}
			if found {
				continue
			}
		}
		if len(rec) <= col {
			return nil, &ValidationError{Fields: []FieldError{{fmt.Sprintf("csv line %d", line), "no case_number column"}}}
		}
		v := strings.TrimSpace(strings.TrimPrefix(rec[col], "\ufeff"))
		if v == "" {
			continue
		}
		if len(out) >= MaxCampaignCases {
			return nil, &ValidationError{Fields: []FieldError{{"csv", fmt.Sprintf("at most %d case numbers per campaign", MaxCampaignCases)}}}
		}
		out = append(out, v)
	}
	return out, nil
}
