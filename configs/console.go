package configs

// ConsoleConfig configures the consultant console and the waiting queue.
type ConsoleConfig struct{}

// check reports problems through bad, keys named as in the YAML file.
func (c ConsoleConfig) check(bad func(key, format string, args ...any)) {}
