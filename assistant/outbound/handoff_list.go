package outbound

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/callbacks"
)

// The consultants' list of callbacks (handoff.go).

// List returns the callbacks waiting for a consultant or taken by one,
// the longest waiting first (at most 200). Phones are masked but for the
// callbacks user took. Holds that lapsed are given back first.
func (h *Handoff) List(ctx context.Context, user string) ([]Task, error) {
	if err := h.expire(ctx); err != nil {
		return nil, err
	}
	rdb, keys := h.d.Scheduler.rdb, h.keys()
	var waiting, held *redis.ZSliceCmd
	var takers *redis.MapStringStringCmd
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		waiting = p.ZRangeWithScores(ctx, keys[0], 0, handoffBatch-1)
		takers = p.HGetAll(ctx, keys[1])
		held = p.ZRangeWithScores(ctx, keys[2], 0, -1)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbound: hand-off list: %w", err)
	}
	if len(waiting.Val()) == 0 {
		return []Task{}, nil
	}
	until := map[string]time.Time{}
	for _, z := range held.Val() {
		until[z.Member.(string)] = time.UnixMilli(int64(z.Score))
	}
	recKeys := make([]string, len(waiting.Val()))
	for i, z := range waiting.Val() {
		recKeys[i] = h.d.Scheduler.prefix + callbacks.KeyCallback + z.Member.(string)
	}
	vals, err := rdb.MGet(ctx, recKeys...).Result()
	if err != nil {
		return nil, fmt.Errorf("outbound: hand-off list: %w", err)
	}
	out := make([]Task, 0, len(vals))
	var gone []any
	for i, v := range vals {
		z := waiting.Val()[i]
		id := z.Member.(string)
		str, ok := v.(string)
		if !ok {
			gone = append(gone, id) // the record expired
			continue
		}
		var cb callbacks.Callback
		if err := json.Unmarshal([]byte(str), &cb); err != nil {
			return nil, fmt.Errorf("outbound: hand-off list: %s: %w", id, err)
		}
		t := taskOf(cb, time.Unix(int64(z.Score), 0))
		t.TakenBy = takers.Val()[id]
		if u, ok := until[id]; ok && t.TakenBy != "" {
			t.HeldUntil = &u
		}
		t.Phone = h.phone(ctx, jobOf(cb))
		if t.TakenBy != user || user == "" {
			t.Phone = MaskPhone(t.Phone)
		}
		out = append(out, t)
	}
	if len(gone) > 0 {
		_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.ZRem(ctx, keys[0], gone...)
			p.ZRem(ctx, keys[2], gone...)
			for _, id := range gone {
				p.HDel(ctx, keys[1], id.(string))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("outbound: hand-off list: prune: %w", err)
		}
	}
	return out, nil
}

func taskOf(cb callbacks.Callback, due time.Time) Task {
	return Task{ID: cb.ID, CaseNumber: cb.CaseNumber, At: cb.At, DueAt: due, Attempts: cb.Attempts,
		LastOutcome: cb.Outcome, Source: cb.Source}
}

// MaskPhone hides every digit of a phone number but the last 3.
func MaskPhone(p string) string {
	b := []byte(p)
	keep := 3
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '0' || b[i] > '9' {
			continue
		}
		if keep > 0 {
			keep--
			continue
		}
		b[i] = '*'
	}
	return string(b)
}
