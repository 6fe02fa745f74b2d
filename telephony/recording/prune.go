package recording

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Errors callers branch on.
var (
	// ErrBadID: a call id that cannot be a file name.
	ErrBadID = errors.New("recording: call id is not a plain file name")
	// ErrBadRetention: Prune was asked to delete recordings of any age.
	ErrBadRetention = errors.New("recording: retention must be positive")
)

// dayLayout is the directory layout under the recordings root, in UTC so
// that a day directory never receives files from two local dates (DST).
const dayLayout = "2006/01/02"

// Path is where the recording of call id answered at t goes:
// <dir>/<YYYY>/<MM>/<DD>/<id>.wav (UTC date). id must be a plain file
// name (no separators); the gateways use their own random leg ids, never
// a SIP Call-ID, which the remote party chooses.
func Path(dir, id string, t time.Time) (string, error) {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, `/\`+"\x00") {
		return "", ErrBadID
	}
	return filepath.Join(dir, filepath.FromSlash(t.UTC().Format(dayLayout)), id+".wav"), nil
}

// Prune deletes recordings (regular *.wav files anywhere under dir) last
// modified more than olderThan before now, then removes the YYYY/MM/DD
// directories (and month and year directories) left empty whose period
// has ended by now, so a directory a call of today may still write to is
// kept. Other files and directories are left alone, and symbolic links
// are not followed. A missing dir is not an error. Errors on single
// entries do not stop the walk; they are returned joined.
func Prune(dir string, olderThan time.Duration, now time.Time) (removed int, err error) {
	if olderThan <= 0 {
		return 0, ErrBadRetention
	}
	cutoff := now.Add(-olderThan)
	var errs []error
	var dirs []string
	walkErr := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			errs = append(errs, err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if path != dir {
				dirs = append(dirs, path)
			}
			return nil
		}
		if !d.Type().IsRegular() || filepath.Ext(path) != ".wav" {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) { // removed meanwhile
				errs = append(errs, err)
			}
			return nil
		}
		if !info.ModTime().Before(cutoff) {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			return nil
		}
		removed++
		return nil
	})
	errs = append(errs, walkErr)
	// The walk lists parents before children: reversed, a day directory
	// is tried before its month, the month before its year.
	for _, d := range slices.Backward(dirs) {
		rel, err := filepath.Rel(dir, d)
		if err != nil || !periodOver(filepath.ToSlash(rel), now) {
			continue
		}
		if empty, err := isEmptyDir(d); err != nil || !empty {
			continue // kept; a racing removal or an unreadable dir is no error here
		}
		if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("recording: prune: %w", err)
	}
	return removed, nil
}

// periodOver reports whether rel names a year, month or day directory of
// the layout ("2026", "2026/03", "2026/03/15") whose period ended by now.
func periodOver(rel string, now time.Time) bool {
	layouts := []string{"2006", "2006/01", dayLayout}
	n := strings.Count(rel, "/")
	if n >= len(layouts) {
		return false
	}
	start, err := time.Parse(layouts[n], rel)
	if err != nil || start.Format(layouts[n]) != rel {
		return false
	}
	end := [...]time.Time{start.AddDate(1, 0, 0), start.AddDate(0, 1, 0), start.AddDate(0, 0, 1)}[n]
	return !now.Before(end)
}

// isEmptyDir reports whether directory d has no entries, reading at
// most one name (day directories can hold thousands of files).
func isEmptyDir(d string) (bool, error) {
	f, err := os.Open(d)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}
