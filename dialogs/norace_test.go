//go:build !race

package dialogs_test

// raceEnabled: see race_test.go.
const raceEnabled = false
