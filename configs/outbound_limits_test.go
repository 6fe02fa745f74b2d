package configs

import (
	"strings"
	"testing"
)

// TestOutboundTrunkLimits: the cluster-wide trunk limits default to off,
// load from the file and the environment, and are range-checked.
func TestOutboundTrunkLimits(t *testing.T) {
	if c := Default(); c.Outbound.TrunkMaxConcurrent != 0 || c.Outbound.TrunkCPS != 0 {
		t.Fatalf("trunk limits on by default: %+v", c.Outbound)
	}
	tests := []struct {
		name string
		file string
		env  map[string]string
		bad  string // "" valid
	}{
		{"set", "outbound:\n  trunk_max_concurrent: 30\n  trunk_cps: 10\n", nil, ""},
		{"from env", "", map[string]string{"HOTLINE_OUTBOUND_TRUNK_CPS": "5"}, ""},
		{"negative concurrency", "outbound:\n  trunk_max_concurrent: -1\n", nil, "outbound.trunk_max_concurrent"},
		{"huge concurrency", "outbound:\n  trunk_max_concurrent: 10001\n", nil, "outbound.trunk_max_concurrent"},
		{"negative cps", "outbound:\n  trunk_cps: -1\n", nil, "outbound.trunk_cps"},
		{"huge cps", "outbound:\n  trunk_cps: 1001\n", nil, "outbound.trunk_cps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, "c.yaml", tt.file)
			}
			c, err := Load(path, envOf(tt.env))
			switch {
			case tt.bad == "" && err != nil:
				t.Fatal(err)
			case tt.bad != "" && (err == nil || !strings.Contains(err.Error(), tt.bad)):
				t.Fatalf("error %v does not name %s", err, tt.bad)
			case tt.bad == "" && c.Outbound.TrunkCPS == 0:
				t.Fatalf("trunk_cps not loaded: %+v", c.Outbound)
			}
		})
	}
}
