package outbound

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/calendar"
	"hotline/assistant/redistest"
)

var warsaw = calendar.Warsaw()

// wt is a wall-clock time in Warsaw.
func wt(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, warsaw)
}

func newGate(t *testing.T, rdb redis.UniversalClient, prefix string, cfg GateConfig) *Gate {
	t.Helper()
	g, err := NewGate(rdb, prefix, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func refusal(t *testing.T, err error) *RefusedError {
	t.Helper()
	var re *RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("want a *RefusedError, got %v", err)
	}
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("%v does not match ErrRefused", err)
	}
	return re
}

func TestGateWindowAndHolidays(t *testing.T) {
	rdb, _, prefix := redistest.Mini(t)
	g := newGate(t, rdb, prefix, GateConfig{})
	utc := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, time.UTC) }
	tests := []struct {
		name    string
		at      time.Time
		rule    string    // "" allowed
		retryAt time.Time // checked when not zero
	}{
		{"tuesday 19:59", wt(2026, 3, 3, 19, 59), "", time.Time{}},
		{"tuesday 20:00", wt(2026, 3, 3, 20, 0), RuleWindow, wt(2026, 3, 4, 8, 0)},
		{"tuesday 07:59", wt(2026, 3, 3, 7, 59), RuleWindow, wt(2026, 3, 3, 8, 0)},
		{"tuesday 08:00", wt(2026, 3, 3, 8, 0), "", time.Time{}},
		{"friday 20:00 → monday", wt(2026, 3, 6, 20, 0), RuleWindow, wt(2026, 3, 9, 8, 0)},
		{"saturday noon", wt(2026, 3, 7, 12, 0), RuleWindow, wt(2026, 3, 9, 8, 0)},
		{"sunday noon", wt(2026, 3, 8, 12, 0), RuleWindow, wt(2026, 3, 9, 8, 0)},
		{"easter monday 2026", wt(2026, 4, 6, 10, 0), RuleHoliday, wt(2026, 4, 7, 8, 0)},
		{"easter monday 2027", wt(2027, 3, 29, 10, 0), RuleHoliday, wt(2027, 3, 30, 8, 0)},
		{"corpus christi 2026", wt(2026, 6, 4, 10, 0), RuleHoliday, wt(2026, 6, 5, 8, 0)},
		{"corpus christi 2025", wt(2025, 6, 19, 10, 0), RuleHoliday, wt(2025, 6, 20, 8, 0)},
		{"1 may 2026 (friday) → monday 4 may", wt(2026, 5, 1, 10, 0), RuleHoliday, wt(2026, 5, 4, 8, 0)},
		{"3 may 2027 (monday)", wt(2027, 5, 3, 10, 0), RuleHoliday, wt(2027, 5, 4, 8, 0)},
		{"2 may 2025 (friday) is a working day", wt(2025, 5, 2, 10, 0), "", time.Time{}},
		{"11 november 2026", wt(2026, 11, 11, 10, 0), RuleHoliday, wt(2026, 11, 12, 8, 0)},
		{"24 december 2025 (holiday since 2025)", wt(2025, 12, 24, 10, 0), RuleHoliday, wt(2025, 12, 29, 8, 0)},
		{"24 december 2024 (not yet a holiday)", wt(2024, 12, 24, 10, 0), "", time.Time{}},
		{"6 january 2026", wt(2026, 1, 6, 10, 0), RuleHoliday, wt(2026, 1, 7, 8, 0)},
		// DST starts 2026-03-29 (last Sunday of March): Monday 08:00 CEST is 06:00 UTC.
		{"monday after spring DST 07:59 CEST", utc(2026, 3, 30, 5, 59), RuleWindow, utc(2026, 3, 30, 6, 0)},
		{"monday after spring DST 08:00 CEST", utc(2026, 3, 30, 6, 0), "", time.Time{}},
		{"monday after spring DST 19:59 CEST", utc(2026, 3, 30, 17, 59), "", time.Time{}},
		{"monday after spring DST 20:00 CEST", utc(2026, 3, 30, 18, 0), RuleWindow, utc(2026, 3, 31, 6, 0)},
		{"friday before spring DST 20:00 CET → monday CEST", utc(2026, 3, 27, 19, 0), RuleWindow, utc(2026, 3, 30, 6, 0)},
		{"DST sunday 02:30 UTC", utc(2026, 3, 29, 2, 30), RuleWindow, utc(2026, 3, 30, 6, 0)},
		// DST ends 2026-10-25: Monday 08:00 CET is 07:00 UTC.
		{"monday after autumn DST 07:59 CET", utc(2026, 10, 26, 6, 59), RuleWindow, utc(2026, 10, 26, 7, 0)},
		{"monday after autumn DST 08:00 CET", utc(2026, 10, 26, 7, 0), "", time.Time{}},
		{"monday after autumn DST 20:00 CET", utc(2026, 10, 26, 19, 0), RuleWindow, utc(2026, 10, 27, 7, 0)},
		{"friday before autumn DST 20:00 CEST → monday CET", utc(2026, 10, 23, 18, 0), RuleWindow, utc(2026, 10, 26, 7, 0)},
		{"friday before autumn DST 19:59 CEST", utc(2026, 10, 23, 17, 59), "", time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := g.Check(t.Context(), Attempt{CaseNumber: "12345678", Phone: "+48600100200", At: tc.at})
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("want allowed, got %v", err)
				}
				if n := g.NextAllowed(tc.at, calendar.Hours{}); !n.Equal(tc.at) {
					t.Errorf("NextAllowed(open instant) = %v, want the instant itself", n)
				}
				return
			}
			re := refusal(t, err)
			if re.Rule != tc.rule {
				t.Errorf("rule %q, want %q (%s)", re.Rule, tc.rule, re.Detail)
			}
			if !re.RetryAt.Equal(tc.retryAt) {
				t.Errorf("RetryAt %v, want %v", re.RetryAt.In(warsaw), tc.retryAt.In(warsaw))
			}
			if n := g.NextAllowed(tc.at, calendar.Hours{}); !n.Equal(tc.retryAt) {
				t.Errorf("NextAllowed %v, want %v", n.In(warsaw), tc.retryAt.In(warsaw))
			}
		})
	}
}

func TestGateConfiguredWindow(t *testing.T) {
	rdb, _, prefix := redistest.Mini(t)
	h, err := calendar.ParseHours(warsaw, "mon-fri 09:00-18:00; sat 10:00-14:00; hol 10:00-12:00")
	if err != nil {
		t.Fatal(err)
	}
	g := newGate(t, rdb, prefix, GateConfig{Window: h})
	camp, err := calendar.ParseHours(warsaw, "mon-fri 12:00-16:00")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		at     time.Time
		window calendar.Hours
		rule   string
		retry  time.Time
	}{
		{"saturday open", wt(2026, 3, 7, 11, 0), calendar.Hours{}, "", time.Time{}},
		{"saturday 14:00 closed", wt(2026, 3, 7, 14, 0), calendar.Hours{}, RuleWindow, wt(2026, 3, 9, 9, 0)},
		{"holiday hours", wt(2026, 11, 11, 11, 0), calendar.Hours{}, "", time.Time{}},
		{"holiday after hours", wt(2026, 11, 11, 12, 0), calendar.Hours{}, RuleHoliday, wt(2026, 11, 12, 9, 0)},
		{"campaign narrows: 10:00", wt(2026, 3, 3, 10, 0), camp, RuleCampaign, wt(2026, 3, 3, 12, 0)},
		{"campaign narrows: 16:00", wt(2026, 3, 3, 16, 0), camp, RuleCampaign, wt(2026, 3, 4, 12, 0)},
		{"campaign inside", wt(2026, 3, 3, 15, 59), camp, "", time.Time{}},
		{"campaign cannot widen: saturday", wt(2026, 3, 7, 11, 0), camp, RuleCampaign, wt(2026, 3, 9, 12, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := g.Check(t.Context(), Attempt{Phone: "+48600100200", At: tc.at, Window: tc.window})
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("want allowed, got %v", err)
				}
				return
			}
			re := refusal(t, err)
			if re.Rule != tc.rule || !re.RetryAt.Equal(tc.retry) {
				t.Errorf("got %s retry %v, want %s retry %v", re.Rule, re.RetryAt.In(warsaw), tc.rule, tc.retry.In(warsaw))
			}
		})
	}
}

func TestGateWeeklyCapDNCAndLive(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := t.Context()
		g := newGate(t, rdb, prefix, GateConfig{})
		mon := wt(2026, 3, 2, 10, 0)
		att := func(id, cn, phone string, at time.Time) Attempt {
			return Attempt{ID: id, CaseNumber: cn, Phone: phone, At: at}
		}
		for i, id := range []string{"a1", "a2", "a3"} {
			a := att(id, "111111", "+48600000001", mon.AddDate(0, 0, i))
			if err := g.Acquire(ctx, a); err != nil {
				t.Fatalf("attempt %d: %v", i+1, err)
			}
			if err := g.Acquire(ctx, a); err != nil {
				t.Fatalf("re-acquiring the same attempt must pass and count once: %v", err)
			}
			if err := g.End(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		// Fourth within 7 days: refused until the first falls out.
		re := refusal(t, g.Check(ctx, att("a4", "111111", "+48600000001", mon.AddDate(0, 0, 3))))
		if re.Rule != RuleWeeklyCap || !re.RetryAt.Equal(mon.AddDate(0, 0, 7)) {
			t.Errorf("got %s retry %v, want weekly cap until %v", re.Rule, re.RetryAt, mon.AddDate(0, 0, 7))
		}
		// The cap is per debtor across numbers: another phone for the case is refused too …
		re = refusal(t, g.Check(ctx, att("a4", "111111", "+48600000099", mon.AddDate(0, 0, 4))))
		if re.Rule != RuleWeeklyCap {
			t.Errorf("other phone, same case: %s", re.Rule)
		}
		// … and the phone is capped across cases (callbacks without a case).
		re = refusal(t, g.Check(ctx, att("a4", "", "+48600000001", mon.AddDate(0, 0, 4))))
		if re.Rule != RuleWeeklyCap {
			t.Errorf("same phone, no case: %s", re.Rule)
		}
		// 6 days 23:59 after the first: still refused; exactly 7 days: allowed (rolling window).
		if err := g.Check(ctx, att("a4", "111111", "+48600000001", mon.AddDate(0, 0, 7).Add(-time.Minute))); err == nil {
			t.Error("cap lifted a minute early")
		}
		if err := g.Acquire(ctx, att("a4", "111111", "+48600000001", mon.AddDate(0, 0, 7))); err != nil {
			t.Errorf("cap not lifted after 7 days: %v", err)
		}

		// Do-not-call: permanent (no RetryAt) until removed.
		if err := g.MarkDNC(ctx, "+48600000002"); err != nil {
			t.Fatal(err)
		}
		re = refusal(t, g.Check(ctx, att("b1", "222222", "+48600000002", mon)))
		if re.Rule != RuleDNC || !re.RetryAt.IsZero() {
			t.Errorf("dnc: %s retry %v", re.Rule, re.RetryAt)
		}
		if found, err := g.UnmarkDNC(ctx, "+48600000002"); err != nil || !found {
			t.Fatalf("unmark: %v %v", found, err)
		}
		if err := g.Check(ctx, att("b1", "222222", "+48600000002", mon)); err != nil {
			t.Errorf("after unmark: %v", err)
		}
		if err := g.MarkDNC(ctx, "0048 600"); !errors.Is(err, ErrInvalid) {
			t.Errorf("bad phone: %v", err)
		}

		// Live: no second call to the debtor while one is up (by case or by phone).
		live := att("c1", "333333", "+48600000003", mon)
		if err := g.Acquire(ctx, live); err != nil {
			t.Fatal(err)
		}
		for _, other := range []Attempt{att("c2", "333333", "+48600000004", mon), att("c3", "444444", "+48600000003", mon)} {
			re = refusal(t, g.Acquire(ctx, other))
			if re.Rule != RuleLive || re.RetryAt.IsZero() {
				t.Errorf("%s: got %s retry %v", other.ID, re.Rule, re.RetryAt)
			}
		}
		if err := g.End(ctx, att("zz", "333333", "+48600000003", mon)); err != nil {
			t.Fatal(err)
		}
		if err := g.Check(ctx, att("c2", "333333", "+48600000004", mon)); err == nil {
			t.Error("ending another attempt cleared the live mark")
		}
		if err := g.End(ctx, live); err != nil {
			t.Fatal(err)
		}
		if err := g.Acquire(ctx, att("c2", "333333", "+48600000004", mon)); err != nil {
			t.Errorf("after End: %v", err)
		}

		// Bad input is not a refusal.
		for _, a := range []Attempt{att("d", "1", "600100200", mon), att("d", "a b", "+48600100200", mon), att("", "1", "+48600100200", mon)} {
			if err := g.Acquire(ctx, a); !errors.Is(err, ErrInvalid) || errors.Is(err, ErrRefused) {
				t.Errorf("%+v: %v", a, err)
			}
		}
	})
}

// TestGateCapIsAtomic: many instances race for one debtor in rounds; in
// each round at most one passes (the live mark), and over all rounds
// exactly the cap.
func TestGateCapIsAtomic(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		g := newGate(t, rdb, prefix, GateConfig{WeeklyCap: 3})
		at := wt(2026, 3, 3, 10, 0)
		total := 0
		for round := range 6 {
			var mu sync.Mutex
			var won []Attempt
			var wg sync.WaitGroup
			for i := range 30 {
				wg.Go(func() {
					a := Attempt{ID: fmt.Sprintf("r%d-%d", round, i), CaseNumber: "555", Phone: "+48600000005", At: at}
					err := g.Acquire(context.Background(), a)
					if err == nil {
						mu.Lock()
						won = append(won, a)
						mu.Unlock()
					} else if !errors.Is(err, ErrRefused) {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if len(won) > 1 {
				t.Fatalf("round %d: %d attempts passed at once", round, len(won))
			}
			for _, a := range won {
				if err := g.End(t.Context(), a); err != nil {
					t.Fatal(err)
				}
			}
			total += len(won)
		}
		if total != 3 {
			t.Fatalf("%d attempts passed over all rounds, want the cap 3", total)
		}
		n, err := rdb.ZCard(t.Context(), prefix+keyAttemptsCase+"555").Result()
		if err != nil || n != 3 {
			t.Fatalf("counted %d (%v), want 3", n, err)
		}
	})
}

// TestGateNeverAllowsOutsideWindow is a property test: random instants
// over many years; whatever the gate allows is a weekday 08:00-20:00 in
// Warsaw and not a public holiday, and NextAllowed lands on an allowed
// instant with nothing allowed before it.
func TestGateNeverAllowsOutsideWindow(t *testing.T) {
	rdb, _, prefix := redistest.Mini(t)
	g := newGate(t, rdb, prefix, GateConfig{})
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	lo := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	inWindow := func(x time.Time) bool {
		l := x.In(warsaw)
		if hol, _ := calendar.IsHoliday(l); hol {
			return false
		}
		if wd := l.Weekday(); wd == time.Saturday || wd == time.Sunday {
			return false
		}
		return l.Hour() >= 8 && l.Hour() < 20
	}
	allowed := 0
	for i := range 3000 {
		at := time.Unix(lo+rng.Int64N(hi-lo), 0)
		err := g.Check(t.Context(), Attempt{Phone: "+48600100200", At: at})
		if err == nil {
			allowed++
			if !inWindow(at) {
				t.Fatalf("allowed %v (%s)", at.In(warsaw), at.In(warsaw).Weekday())
			}
			continue
		}
		re := refusal(t, err)
		if inWindow(at) {
			t.Fatalf("refused %v inside the window: %v", at.In(warsaw), re)
		}
		if i%10 == 0 {
			n := g.NextAllowed(at, calendar.Hours{})
			if !inWindow(n) || n.Before(at) || n.Sub(at) > 6*24*time.Hour {
				t.Fatalf("NextAllowed(%v) = %v", at.In(warsaw), n.In(warsaw))
			}
			if n.Sub(at) > time.Minute && inWindow(n.Add(-time.Minute)) {
				t.Fatalf("NextAllowed(%v) = %v, but a minute earlier is allowed", at.In(warsaw), n.In(warsaw))
			}
		}
	}
	if allowed < 500 {
		t.Fatalf("only %d of 3000 random instants allowed: the sample is not exercising the window", allowed)
	}
}
