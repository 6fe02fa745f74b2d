//go:build race

package dialogs_test

// raceEnabled shortens the random walks under the race detector, which
// slows this single-goroutine code tenfold without finding more.
const raceEnabled = true
