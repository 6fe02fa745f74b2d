package configs

import (
	"strings"
	"time"
)

// ConsoleConfig configures the consultant console and the waiting queue.
type ConsoleConfig struct {
	Users                   []ConsoleUser `yaml:"users"`
	SessionTTL              time.Duration `yaml:"session_ttl"`
	CookieSecure            bool          `yaml:"cookie_secure"`
	LoginLimit              int           `yaml:"login_limit"`
	LoginWindow             time.Duration `yaml:"login_window"`
	QueueTimeout            time.Duration `yaml:"queue_timeout"`
	RingTimeout             time.Duration `yaml:"ring_timeout"`
	PresenceTTL             time.Duration `yaml:"presence_ttl"`
	QueueWithoutConsultants bool          `yaml:"queue_without_consultants"`
}

// ConsoleUser is one console account.
type ConsoleUser struct {
	Name         string `yaml:"name"`          // login
	DisplayName  string `yaml:"display_name"`  // shown in the console
	PasswordHash string `yaml:"password_hash"` // bcrypt
	Role         string `yaml:"role"`          // consultant | supervisor
	Demo         bool   `yaml:"demo"`          // a documented demo account
}

// Console roles.
const (
	RoleConsultant = "consultant"
	RoleSupervisor = "supervisor"
)

// OnlyDemoUsers reports whether every console account is a demo account
// (the built-in defaults): the service warns at start-up.
func (c ConsoleConfig) OnlyDemoUsers() bool {
	for _, u := range c.Users {
		if !u.Demo {
			return false
		}
	}
	return true
}

// check reports problems through bad, keys named as in the YAML file.
func (c ConsoleConfig) check(bad func(key, format string, args ...any)) {
	seen := map[string]bool{}
	for i, u := range c.Users {
		switch {
		case u.Name == "" || strings.ContainsAny(u.Name, " \t:/"):
			bad("console.users", "user %d: name must be non-empty without spaces, colons or slashes", i+1)
		case seen[u.Name]:
			bad("console.users", "user %q listed twice", u.Name)
		}
		seen[u.Name] = true
		if !strings.HasPrefix(u.PasswordHash, "$2") {
			bad("console.users", "user %q: password_hash must be a bcrypt hash ($2a$…, e.g. from `htpasswd -bnBC 10 \"\" PASSWORD`)", u.Name)
		}
		if u.Role != RoleConsultant && u.Role != RoleSupervisor {
			bad("console.users", "user %q: role %q is not one of consultant, supervisor", u.Name, u.Role)
		}
	}
	for key, d := range map[string]time.Duration{
		"console.session_ttl": c.SessionTTL, "console.login_window": c.LoginWindow,
		"console.queue_timeout": c.QueueTimeout, "console.ring_timeout": c.RingTimeout,
		"console.presence_ttl": c.PresenceTTL,
	} {
		if d <= 0 {
			bad(key, "must be positive")
		}
	}
	if c.LoginLimit < 1 {
		bad("console.login_limit", "must be at least 1, got %d", c.LoginLimit)
	}
}
