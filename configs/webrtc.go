package configs

// WebRTCConfig configures browser calls (telephony/webrtcgw).
type WebRTCConfig struct{}

// check reports problems through bad, keys named as in the YAML file.
func (c WebRTCConfig) check(bad func(key, format string, args ...any)) {}
