package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"
)

// Key layout, relative to the prefix:
//
//	<prefix>console:session:<sha256(token)>  hash {user, csrf}, TTL SessionTTL
//	<prefix>console:fail:ip:<ip>             failed logins from an IP, TTL LoginWindow
//	<prefix>console:fail:user:<name>         failed logins for a user, TTL LoginWindow
//
// The session key holds the token's hash, not the token: a leaked Redis
// dump does not hand out live sessions.
const (
	keySession  = "console:session:"
	keyFailIP   = "console:fail:ip:"
	keyFailUser = "console:fail:user:"
)

// CookieName is the session cookie.
const CookieName = "hotline_console"

// Roles.
const (
	RoleConsultant = "consultant"
	RoleSupervisor = "supervisor"
)

// User is a console account.
type User struct {
	Name         string
	DisplayName  string
	PasswordHash string // bcrypt
	Role         string // RoleConsultant | RoleSupervisor
}

// Sentinel errors of the login.
var (
	ErrBadLogin    = errors.New("console: wrong user name or password")
	ErrRateLimited = errors.New("console: too many failed logins")
)

// session is a logged-in browser.
type session struct {
	user User
	csrf string
}

// dummyHash is compared against when the user does not exist, so a
// login takes as long for unknown names as for wrong passwords.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (c *Console) sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return c.prefix + keySession + hex.EncodeToString(sum[:])
}

// login checks the password and the rate limits (per IP and per user),
// and returns a new session token.
func (c *Console) login(ctx context.Context, ip, name, password string) (string, error) {
	ipKey, userKey := c.prefix+keyFailIP+ip, c.prefix+keyFailUser+name
	counts, err := c.rdb.MGet(ctx, ipKey, userKey).Result()
	if err != nil {
		return "", fmt.Errorf("console: login: %w", err)
	}
	for _, v := range counts {
		if n, ok := v.(string); ok && atoi(n) >= c.opt.LoginLimit {
			return "", ErrRateLimited
		}
	}
	u, known := c.users[name]
	hash := dummyHash
	if known {
		hash = []byte(u.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || !known {
		_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range []string{ipKey, userKey} {
				p.Incr(ctx, k)
				p.PExpire(ctx, k, c.opt.LoginWindow)
			}
			return nil
		})
		if err != nil {
			c.log.Warn("console: counting a failed login failed", "err", err)
		}
		return "", ErrBadLogin
	}
	c.rdb.Del(ctx, userKey)
	token := randomToken()
	k := c.sessionKey(token)
	_, err = c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k, "user", u.Name, "csrf", randomToken())
		p.PExpire(ctx, k, c.opt.SessionTTL)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("console: login: %w", err)
	}
	return token, nil
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0
		}
		n = n*10 + int(r-'0')
	}
	return n
}

// session returns the request's session, or nil.
func (c *Console) session(r *http.Request) *session {
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" || len(ck.Value) > 128 {
		return nil
	}
	m, err := c.rdb.HGetAll(r.Context(), c.sessionKey(ck.Value)).Result()
	if err != nil || len(m) == 0 {
		return nil
	}
	u, ok := c.users[m["user"]]
	if !ok {
		return nil // the account was removed from the configuration
	}
	return &session{user: u, csrf: m["csrf"]}
}

// logout deletes the request's session.
func (c *Console) logout(r *http.Request) {
	if ck, err := r.Cookie(CookieName); err == nil {
		c.rdb.Del(r.Context(), c.sessionKey(ck.Value))
	}
}

// setCookie sets (or, with an empty token, clears) the session cookie:
// HttpOnly (no script reads it), SameSite=Strict (no cross-site request
// carries it), Secure unless configured off for plain-HTTP tests.
func (c *Console) setCookie(e echo.Context, token string) {
	ck := &http.Cookie{
		Name: CookieName, Value: token, Path: "/console",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.opt.CookieSecure,
	}
	if token == "" {
		ck.MaxAge = -1
	} else {
		ck.Expires = time.Now().Add(c.opt.SessionTTL)
	}
	e.SetCookie(ck)
}

// sameOrigin reports whether a state-changing request comes from our own
// pages: an Origin header, when present, must name this host (browsers
// send it on every POST and WebSocket handshake).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true // not a browser cross-origin request; the CSRF token still applies
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// csrfOK compares the request's token with the session's.
func csrfOK(s *session, got string) bool {
	return s.csrf != "" && subtle.ConstantTimeCompare([]byte(s.csrf), []byte(got)) == 1
}

// clientIP is the TCP peer's address: X-Forwarded-For is not trusted, so
// it cannot be forged to dodge the login limit.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ctxKey stores the session in echo's context.
const ctxSession = "console.session"

// requireSession lets requests with a valid session through. Pages
// redirect to the login; the API and the socket answer 401.
func (c *Console) requireSession(page bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(e echo.Context) error {
			s := c.session(e.Request())
			if s == nil {
				if page {
					return e.Redirect(http.StatusSeeOther, "/console/login")
				}
				return echo.NewHTTPError(http.StatusUnauthorized, "login required")
			}
			e.Set(ctxSession, s)
			return next(e)
		}
	}
}

// requireCSRF guards state-changing requests: same origin and the
// session's token in the X-CSRF-Token header (or the csrf form field).
func requireCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(e echo.Context) error {
		s := e.Get(ctxSession).(*session)
		tok := e.Request().Header.Get("X-CSRF-Token")
		if tok == "" {
			tok = e.FormValue("csrf")
		}
		if !sameOrigin(e.Request()) || !csrfOK(s, tok) {
			return echo.NewHTTPError(http.StatusForbidden, "invalid CSRF token")
		}
		return next(e)
	}
}

func sess(e echo.Context) *session { return e.Get(ctxSession).(*session) }
