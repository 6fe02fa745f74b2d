package outbound

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"time"

	"github.com/redis/go-redis/v9"
)

// Ledger keys, relative to the prefix.
const (
	keyLedger     = "outbound:ledger"
	keyLedgerCase = "outbound:ledger:case:"
)

// Ledger events.
const (
	EventDial    = "dial"    // the gate passed and the INVITE goes out
	EventOutcome = "outcome" // how the attempt ended
	EventRefused = "refused" // the gate refused the attempt
)

// Entry is one line of the contact ledger. The ledger is for auditors:
// it stores case numbers and phones in full, so entries must never be
// logged.
type Entry struct {
	ID         string    `json:"id"` // stream id (set when read back)
	At         time.Time `json:"at"`
	Event      string    `json:"event"`
	AttemptID  string    `json:"attempt_id"`
	CaseNumber string    `json:"case_number,omitempty"`
	Phone      string    `json:"phone"`
	CampaignID string    `json:"campaign_id,omitempty"`
	CallbackID string    `json:"callback_id,omitempty"`
	Outcome    string    `json:"outcome,omitempty"`
	Rule       string    `json:"rule,omitempty"`
	Detail     string    `json:"detail,omitempty"`
}

// Ledger is the append-only contact ledger in Redis streams.
type Ledger struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewLedger returns the ledger.
func NewLedger(rdb redis.UniversalClient, prefix string) *Ledger {
	return &Ledger{rdb: rdb, prefix: prefix}
}

func (e Entry) values() map[string]any {
	return map[string]any{
		"at": e.At.UTC().Format(time.RFC3339Nano), "event": e.Event, "attempt": e.AttemptID,
		"case": e.CaseNumber, "phone": e.Phone, "campaign": e.CampaignID, "callback": e.CallbackID,
		"outcome": e.Outcome, "rule": e.Rule, "detail": e.Detail,
	}
}

func entryFrom(m redis.XMessage) Entry {
	s := func(k string) string { v, _ := m.Values[k].(string); return v }
	at, _ := time.Parse(time.RFC3339Nano, s("at"))
	return Entry{
		ID: m.ID, At: at, Event: s("event"), AttemptID: s("attempt"), CaseNumber: s("case"),
		Phone: s("phone"), CampaignID: s("campaign"), CallbackID: s("callback"),
		Outcome: s("outcome"), Rule: s("rule"), Detail: s("detail"),
	}
}

// Append adds an entry to the ledger (and to its case's stream). The
// stream id is the server's clock; e.At is the service clock.
func (l *Ledger) Append(ctx context.Context, e Entry) error {
	vals := e.values()
	_, err := l.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAdd(ctx, &redis.XAddArgs{Stream: l.prefix + keyLedger, Values: vals})
		if e.CaseNumber != "" {
			p.XAdd(ctx, &redis.XAddArgs{Stream: l.prefix + keyLedgerCase + e.CaseNumber, Values: vals})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbound: ledger: %w", err)
	}
	return nil
}

// ByCase returns the case's entries, oldest first (at most limit; 0 = all).
func (l *Ledger) ByCase(ctx context.Context, caseNumber string, limit int64) ([]Entry, error) {
	var msgs []redis.XMessage
	var err error
	if limit > 0 {
		msgs, err = l.rdb.XRangeN(ctx, l.prefix+keyLedgerCase+caseNumber, "-", "+", limit).Result()
	} else {
		msgs, err = l.rdb.XRange(ctx, l.prefix+keyLedgerCase+caseNumber, "-", "+").Result()
	}
	if err != nil {
		return nil, fmt.Errorf("outbound: ledger: %w", err)
	}
	out := make([]Entry, len(msgs))
	for i, m := range msgs {
		out[i] = entryFrom(m)
	}
	return out, nil
}

// ledgerPage is how many entries WriteCSV reads per XRANGE.
const ledgerPage = 500

// CSVHeader is the first row WriteCSV writes.
var CSVHeader = []string{"id", "at", "event", "attempt_id", "case_number", "phone", "campaign_id", "callback_id", "outcome", "rule", "detail"}

// Each calls f for the entries whose At lies in [from, to), oldest first.
// A zero from or to leaves that side open. Selection is by the entry's
// time (the service clock, which tests inject), so the whole stream is
// read in pages: stream ids carry the Redis server's clock, which may
// differ.
func (l *Ledger) Each(ctx context.Context, from, to time.Time, f func(Entry) error) error {
	start := "-"
	for {
		msgs, err := l.rdb.XRangeN(ctx, l.prefix+keyLedger, start, "+", ledgerPage).Result()
		if err != nil {
			return fmt.Errorf("outbound: ledger: %w", err)
		}
		for _, m := range msgs {
			e := entryFrom(m)
			if (!from.IsZero() && e.At.Before(from)) || (!to.IsZero() && !e.At.Before(to)) {
				continue
			}
			if err := f(e); err != nil {
				return err
			}
		}
		if len(msgs) < ledgerPage {
			return nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// WriteCSV writes the entries with At in [from, to) as CSV with a header
// row (CSVHeader). Times are RFC 3339 in UTC.
func (l *Ledger) WriteCSV(ctx context.Context, w io.Writer, from, to time.Time) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("outbound: ledger csv: %w", err)
	}
	err := l.Each(ctx, from, to, func(e Entry) error {
		return cw.Write([]string{e.ID, e.At.UTC().Format(time.RFC3339Nano), e.Event, e.AttemptID, csvSafe(e.CaseNumber),
			e.Phone, csvSafe(e.CampaignID), csvSafe(e.CallbackID), e.Outcome, e.Rule, csvSafe(e.Detail)})
	})
	if err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("outbound: ledger csv: %w", err)
	}
	return nil
}

// csvSafe defuses spreadsheet formulas (CSV injection): a free-text cell
// starting with = + - @ is prefixed with a quote. Phones are validated
// E.164 and written as they are.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
