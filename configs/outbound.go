package configs

// OutboundConfig configures outbound calls: the compliance gate, the dialer and campaigns.
type OutboundConfig struct{}

// check reports problems through bad, keys named as in the YAML file.
func (c OutboundConfig) check(bad func(key, format string, args ...any)) {}
