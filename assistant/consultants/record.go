package consultants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant"
	"hotline/assistant/session"
	"hotline/dialogs"
)

// ErrNoCall: no queue record for that call id.
var ErrNoCall = errors.New("consultants: no such call")

// Popup is the screen-pop a consultant sees when a call rings: who is
// calling about what, how far the assistant verified them, what it
// already told them, why it transferred, and the transcript so far.
type Popup struct {
	CallID       string               `json:"call_id"`
	CaseNumber   string               `json:"case_number,omitempty"` // only when verified
	DebtorName   string               `json:"debtor_name,omitempty"` // only when verified
	Verification string               `json:"verification"`          // "verified" | "not_verified"
	Disclosed    []dialogs.Disclosure `json:"disclosed"`
	Reason       string               `json:"reason"`
	Transcript   []session.Line       `json:"transcript"`
	EnqueuedAt   time.Time            `json:"enqueued_at"`
}

// popup builds the screen-pop from the assistant's transfer context.
func (s *Service) popup(ctx context.Context, tc *assistant.TransferContext, now time.Time) *Popup {
	p := &Popup{
		CallID: tc.CallID, Reason: tc.Reason, Verification: "not_verified",
		Disclosed: tc.Disclosures, Transcript: tc.Transcript, EnqueuedAt: now.UTC(),
	}
	if p.Disclosed == nil {
		p.Disclosed = []dialogs.Disclosure{}
	}
	if p.Transcript == nil {
		p.Transcript = []session.Line{}
	}
	if tc.Verified {
		p.Verification = "verified"
		p.CaseNumber = tc.CaseNumber
		if s.opt.Names != nil && tc.CaseNumber != "" {
			name, err := s.opt.Names.DebtorName(ctx, tc.CaseNumber)
			if err != nil {
				s.log.Warn("consultants: debtor name unavailable", "err", err)
			}
			p.DebtorName = name
		}
	}
	return p
}

// Popup returns the screen-pop of a queued call.
func (s *Service) Popup(ctx context.Context, id string) (*Popup, error) {
	raw, err := s.rdb.HGet(ctx, s.callKey(id), "popup").Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNoCall
	}
	if err != nil {
		return nil, fmt.Errorf("consultants: popup: %w", err)
	}
	var p Popup
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, fmt.Errorf("consultants: popup: %w", err)
	}
	return &p, nil
}

// Call is a queued call's record.
type Call struct {
	ID         string    `json:"id"`
	State      string    `json:"state"`
	Consultant string    `json:"consultant,omitempty"`
	Reason     string    `json:"reason"`
	Outcome    string    `json:"outcome,omitempty"`
	EnqueuedAt time.Time `json:"enqueued_at"`
	Popup      *Popup    `json:"popup,omitempty"` // filled by Record
	Notes      []Note    `json:"notes,omitempty"` // filled by Record
}

// Call returns a call's queue record (without popup and notes).
func (s *Service) Call(ctx context.Context, id string) (Call, error) {
	m, err := s.rdb.HGetAll(ctx, s.callKey(id)).Result()
	if err != nil {
		return Call{}, fmt.Errorf("consultants: call: %w", err)
	}
	if len(m) == 0 {
		return Call{}, ErrNoCall
	}
	return callFrom(id, m), nil
}

func callFrom(id string, m map[string]string) Call {
	c := Call{ID: id, State: m["state"], Consultant: m["consultant"], Reason: m["reason"], Outcome: m["outcome"]}
	if ms, err := strconv.ParseInt(m["enqueued_at"], 10, 64); err == nil {
		c.EnqueuedAt = time.UnixMilli(ms).UTC()
	}
	return c
}

// Record returns a call's record with its screen-pop and notes.
func (s *Service) Record(ctx context.Context, id string) (Call, error) {
	c, err := s.Call(ctx, id)
	if err != nil {
		return c, err
	}
	if c.Popup, err = s.Popup(ctx, id); err != nil {
		return c, err
	}
	c.Notes, err = s.Notes(ctx, id)
	return c, err
}

// Note is a consultant's note about a call.
type Note struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Text string    `json:"text"`
}

// MaxNoteLen bounds a note (in bytes).
const MaxNoteLen = 4000

// AddNote stores a note with the call (kept as long as the call record).
func (s *Service) AddNote(ctx context.Context, id, user, text string) (Note, error) {
	text = strings.TrimSpace(text)
	if text == "" || len(text) > MaxNoteLen {
		return Note{}, fmt.Errorf("consultants: a note must have 1 to %d bytes", MaxNoteLen)
	}
	n := Note{At: s.opt.Now().UTC(), By: user, Text: text}
	b, err := json.Marshal(n)
	if err != nil {
		return Note{}, err
	}
	k := s.notesKey(id)
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, k, b)
		p.PExpire(ctx, k, s.opt.CallTTL)
		return nil
	})
	if err != nil {
		return Note{}, fmt.Errorf("consultants: note: %w", err)
	}
	return n, nil
}

// Notes lists a call's notes, oldest first.
func (s *Service) Notes(ctx context.Context, id string) ([]Note, error) {
	raw, err := s.rdb.LRange(ctx, s.notesKey(id), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("consultants: notes: %w", err)
	}
	out := make([]Note, 0, len(raw))
	for _, r := range raw {
		var n Note
		if json.Unmarshal([]byte(r), &n) == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// Board is the supervisor's view: live calls, the queue and the
// consultants' states.
type Board struct {
	Queue       int        `json:"queue"`
	Calls       []Call     `json:"calls"` // waiting, offered or connected; oldest first
	Consultants []Presence `json:"consultants"`
}

// boardScan bounds how many recent calls the board looks at.
const boardScan = 200

// Board returns the current state of the queue.
func (s *Service) Board(ctx context.Context) (Board, error) {
	var b Board
	n, err := s.rdb.ZCard(ctx, s.prefix+keyQueue).Result()
	if err != nil {
		return b, fmt.Errorf("consultants: board: %w", err)
	}
	b.Queue = int(n)
	ids, err := s.rdb.ZRange(ctx, s.prefix+keyCalls, -boardScan, -1).Result()
	if err != nil {
		return b, fmt.Errorf("consultants: board: %w", err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, s.callKey(id))
		}
		return nil
	}); err != nil {
		return b, fmt.Errorf("consultants: board: %w", err)
	}
	b.Calls = []Call{}
	for i, id := range ids {
		m := cmds[i].Val()
		if len(m) == 0 || m["state"] == CallEnded {
			continue
		}
		b.Calls = append(b.Calls, callFrom(id, m))
	}
	if b.Consultants, err = s.Presences(ctx); err != nil {
		return b, err
	}
	return b, nil
}

// Position returns a waiting caller's place in line (1 = next), or 0.
func (s *Service) Position(ctx context.Context, id string) (int, error) {
	r, err := s.rdb.ZRank(ctx, s.prefix+keyQueue, id).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("consultants: position: %w", err)
	}
	return int(r) + 1, nil
}
