package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Key layout, relative to the prefix.
const (
	KeyCSRF  = "web:csrf_key" // HMAC key for form tokens, shared by all instances
	KeyLimit = "web:limit:"   // + hash of the ip + ":" + window number: submissions counted
)

// csrf implements CSRF protection as a signed double-submit: the browser
// gets a random nonce in a cookie (HttpOnly, SameSite=Strict) and the
// form carries HMAC(key, nonce). A forged cross-site post has neither the
// cookie (SameSite) nor, without the key, a token matching a cookie it
// may have planted (OWASP CSRF cheat sheet, "signed double-submit
// cookie"). The key lives in Redis so that every instance accepts the
// forms of the others.
type csrf struct{ key []byte }

// loadCSRF fetches the shared key, creating it on first use.
func loadCSRF(ctx context.Context, rdb redis.UniversalClient, prefix string) (*csrf, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("web: csrf key: %w", err)
	}
	k := prefix + KeyCSRF
	if err := rdb.SetNX(ctx, k, hex.EncodeToString(b[:]), 0).Err(); err != nil {
		return nil, fmt.Errorf("web: csrf key: %w", err)
	}
	v, err := rdb.Get(ctx, k).Result()
	if err != nil {
		return nil, fmt.Errorf("web: csrf key: %w", err)
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("web: csrf key in %s is malformed", k)
	}
	return &csrf{key: key}, nil
}

// nonce returns a fresh cookie value.
func (c *csrf) nonce() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// token is the form value that goes with nonce.
func (c *csrf) token(nonce string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("oddzwonienie:" + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// valid reports whether token was issued for nonce.
func (c *csrf) valid(nonce, token string) bool {
	if nonce == "" || token == "" || len(nonce) > 64 || len(token) > 64 {
		return false
	}
	return hmac.Equal([]byte(c.token(nonce)), []byte(token))
}

// limiter counts submissions per client IP in fixed windows in Redis, so
// the limit holds across instances.
type limiter struct {
	rdb    redis.UniversalClient
	prefix string
	max    int
	window time.Duration
}

// errLimited: the client used up its submissions for the window.
var errLimited = errors.New("web: too many submissions")

// allow counts one submission from ip at now and reports errLimited past
// the limit.
func (l *limiter) allow(ctx context.Context, ip string, now time.Time) error {
	w := now.UnixNano() / int64(l.window)
	// The address is hashed: the key needs no clear personal data.
	sum := sha256.Sum256([]byte(ip))
	k := l.prefix + KeyLimit + hex.EncodeToString(sum[:8]) + ":" + strconv.FormatInt(w, 10)
	pipe := l.rdb.TxPipeline()
	n := pipe.Incr(ctx, k)
	pipe.PExpire(ctx, k, l.window+time.Second)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("web: rate limit: %w", err)
	}
	if n.Val() > int64(l.max) {
		return errLimited
	}
	return nil
}
