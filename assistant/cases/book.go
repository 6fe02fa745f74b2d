package cases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/dialogs"
)

// Redis key layout of the case book. Every key starts with the Book's
// prefix (DefaultPrefix unless configured):
//
//	<prefix>case:<number>   string  the Case as JSON (see Case's tags)
//	<prefix>cases           set     the numbers of every case in the book
//
// An import writes all of its keys in one MULTI/EXEC, so readers see either
// none or all of it. On Redis Cluster give a prefix with a hash tag, e.g.
// "{hotline}:", so that the transaction's keys share a slot.
const (
	DefaultPrefix = "hotline:"
	keyCase       = "case:"
	keyCases      = "cases"
)

// importRetries bounds how often Import retries when a concurrent writer
// touched the number set between WATCH and EXEC.
const importRetries = 10

// ErrNotFound is returned for a case number the book does not hold. It also
// matches dialogs.ErrCaseNotFound under errors.Is.
var ErrNotFound error = notFoundError{}

type notFoundError struct{}

func (notFoundError) Error() string { return "cases: case not found" }

// Is makes errors.Is(ErrNotFound, dialogs.ErrCaseNotFound) true, so the
// conversation flow can branch on its own sentinel.
func (notFoundError) Is(target error) bool { return target == dialogs.ErrCaseNotFound }

// Book is the case book in Redis. It is safe for concurrent use.
type Book struct {
	rdb    redis.UniversalClient
	prefix string
	opt    Options
	s      settings
}

var _ dialogs.CaseFinder = (*Book)(nil)

// NewBook returns the case book kept in rdb under prefix ("" means
// DefaultPrefix). opt is the validation applied by Import and the
// case-number format Get checks before asking Redis.
func NewBook(rdb redis.UniversalClient, prefix string, opt Options) *Book {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Book{rdb: rdb, prefix: prefix, opt: opt, s: opt.settings()}
}

func (b *Book) caseKey(number string) string { return b.prefix + keyCase + number }
func (b *Book) setKey() string               { return b.prefix + keyCases }

// Import stores the cases, all or nothing. Every case is validated first
// (an *ImportError lists the problems, and nothing is written); then all
// are written in one MULTI/EXEC transaction. A case whose number is
// already in the book is replaced; cases not in cs are left alone.
func (b *Book) Import(ctx context.Context, cs []Case) error {
	if err := Validate(cs, b.opt); err != nil {
		return err
	}
	if len(cs) == 0 {
		return nil
	}
	payloads := make([][]byte, len(cs))
	numbers := make([]any, len(cs))
	for i, c := range cs {
		p, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("cases: encode case %d: %w", i+1, err)
		}
		payloads[i], numbers[i] = p, c.Number
	}
	// Redis does not roll back a transaction whose command fails at EXEC
	// time. SET cannot fail that way, SADD can (the set key holding another
	// type), so check its type under WATCH before queuing anything.
	write := func(tx *redis.Tx) error {
		typ, err := tx.Type(ctx, b.setKey()).Result()
		if err != nil {
			return fmt.Errorf("cases: import: %w", err)
		}
		if typ != "set" && typ != "none" {
			return fmt.Errorf("cases: import: key %s holds a %s, not a set; nothing imported", b.setKey(), typ)
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for i, c := range cs {
				p.Set(ctx, b.caseKey(c.Number), payloads[i], 0)
			}
			p.SAdd(ctx, b.setKey(), numbers...)
			return nil
		})
		return err
	}
	for range importRetries {
		err := b.rdb.Watch(ctx, write, b.setKey())
		if errors.Is(err, redis.TxFailedErr) {
			continue // another writer changed the set; nothing was applied
		}
		if err != nil {
			return fmt.Errorf("cases: import: %w", err)
		}
		return nil
	}
	return fmt.Errorf("cases: import: %w after %d attempts", redis.TxFailedErr, importRetries)
}

// Get returns the case with the number, or ErrNotFound. A number that does
// not match the case-number format is not looked up.
func (b *Book) Get(ctx context.Context, number string) (Case, error) {
	if !allDigits(number) || !b.s.number.MatchString(number) {
		return Case{}, ErrNotFound
	}
	raw, err := b.rdb.Get(ctx, b.caseKey(number)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Case{}, ErrNotFound
	}
	if err != nil {
		return Case{}, fmt.Errorf("cases: get: %w", err)
	}
	var c Case
	if err := json.Unmarshal(raw, &c); err != nil {
		return Case{}, fmt.Errorf("cases: decode stored case: %w", err)
	}
	return c, nil
}

// FindCase implements dialogs.CaseFinder: the case as the flow may tell it.
// A missing case is an error matching dialogs.ErrCaseNotFound.
func (b *Book) FindCase(ctx context.Context, number string) (dialogs.Case, error) {
	c, err := b.Get(ctx, number)
	if err != nil {
		return dialogs.Case{}, err
	}
	return c.Dialog(), nil
}

// BirthDate returns the debtor's date of birth (UTC midnight) for the
// verifier, or ErrNotFound.
func (b *Book) BirthDate(ctx context.Context, number string) (time.Time, error) {
	c, err := b.Get(ctx, number)
	if err != nil {
		return time.Time{}, err
	}
	return c.BirthDate, nil
}

// Count returns how many cases the book holds.
func (b *Book) Count(ctx context.Context) (int64, error) {
	n, err := b.rdb.SCard(ctx, b.setKey()).Result()
	if err != nil {
		return 0, fmt.Errorf("cases: count: %w", err)
	}
	return n, nil
}
