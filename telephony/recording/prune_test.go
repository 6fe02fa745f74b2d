package recording

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPath(t *testing.T) {
	at := time.Date(2026, 3, 15, 23, 30, 0, 0, time.FixedZone("CET", 3600)) // 22:30 UTC
	got, err := Path("/rec", "a1b2", at)
	if err != nil || got != filepath.FromSlash("/rec/2026/03/15/a1b2.wav") {
		t.Errorf("Path = %q, %v", got, err)
	}
	for _, id := range []string{"", ".", "..", "../x", "a/b", `a\b`, "a\x00"} {
		if _, err := Path("/rec", id, at); !errors.Is(err, ErrBadID) {
			t.Errorf("Path(%q) = %v, want ErrBadID", id, err)
		}
	}
}

// TestPrune: with a fake clock, recordings past retention go, recent ones
// and other files stay, emptied day/month/year directories of past
// periods go, today's (empty) directory stays.
func TestPrune(t *testing.T) {
	now := time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC)
	const retention = 30 * 24 * time.Hour
	dir := t.TempDir()
	type file struct {
		rel string
		age time.Duration
	}
	files := []file{
		{"2026/02/20/old1.wav", 41 * 24 * time.Hour},
		{"2026/02/28/old2.wav", 33 * 24 * time.Hour},
		{"2026/03/02/edge.wav", retention + time.Second},
		{"2026/03/03/keep1.wav", retention - time.Second},
		{"2026/03/03/notes.txt", 60 * 24 * time.Hour}, // not a recording
		{"2025/12/31/old3.wav", 92 * 24 * time.Hour},
		{"other/old4.wav", 60 * 24 * time.Hour}, // outside the layout: pruned, dir kept
		{"2026/04/02/today.wav", time.Minute},
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("RIFF"), 0o600); err != nil {
			t.Fatal(err)
		}
		mt := now.Add(-f.age)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"2026/04/02", "2026/04/01"} { // empty day dirs: today, yesterday
		if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(d)), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(filepath.Join(dir, "2026/04/02/today.wav")); err != nil {
		t.Fatal(err)
	}
	// A symlink to a directory outside: never followed.
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim.wav")
	if err := os.WriteFile(victim, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old := now.Add(-100 * 24 * time.Hour)
	_ = os.Chtimes(victim, old, old)
	if err := os.Symlink(outside, filepath.Join(dir, "2026", "link")); err != nil {
		t.Fatal(err)
	}

	removed, err := Prune(dir, retention, now)
	if err != nil {
		t.Fatal(err)
	}
	if removed != 5 {
		t.Errorf("removed %d, want 5", removed)
	}
	exists := func(rel string) bool {
		_, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(rel)))
		return err == nil
	}
	for _, rel := range []string{"2026/03/03/keep1.wav", "2026/03/03/notes.txt", "2026/04/02", "other", "2026/link"} {
		if !exists(rel) {
			t.Errorf("%s was removed", rel)
		}
	}
	for _, rel := range []string{"2026/02/20", "2026/02", "2026/03/02", "2025", "2026/04/01", "other/old4.wav"} {
		if exists(rel) {
			t.Errorf("%s still there", rel)
		}
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("followed a symlink out of the recordings dir: %v", err)
	}

	// Idempotent; a missing dir is fine; a zero retention is refused.
	if n, err := Prune(dir, retention, now); n != 0 || err != nil {
		t.Errorf("second Prune: %d, %v", n, err)
	}
	if n, err := Prune(filepath.Join(dir, "nope"), retention, now); n != 0 || err != nil {
		t.Errorf("Prune of a missing dir: %d, %v", n, err)
	}
	if _, err := Prune(dir, 0, now); !errors.Is(err, ErrBadRetention) {
		t.Errorf("Prune with zero retention: %v", err)
	}
}

func TestPeriodOver(t *testing.T) {
	now := time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC)
	for rel, want := range map[string]bool{
		"2026/04/01": true, "2026/04/02": false, "2026/03": true, "2026/04": false,
		"2025": true, "2026": false, "2026/4/01": false, "x": false, "2026/04/01/extra": false,
	} {
		if got := periodOver(rel, now); got != want {
			t.Errorf("periodOver(%q) = %v, want %v", rel, got, want)
		}
	}
}
