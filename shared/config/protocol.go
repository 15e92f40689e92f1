package config

import (
	"strings"

	"github.com/pajarito-care/pajarito/shared/protocol"
)

// The "protocol" section: the care protocol of package protocol (its type,
// defaults and rules live there). Absent from the file, it is protocol.DefaultConfig;
// present, it is read over those defaults (lists and templates replaced whole, maps
// key by key). PAJARITO_TIER overrides protocol.tier. Validation reports each bad
// setting by its path ("protocol.templates.complaint.es") with where it came from.

// protocolOverrides applies the environment's overrides of the protocol section.
func (c *Config) protocolOverrides(getenv func(string) string) {
	if v := strings.TrimSpace(getenv("PAJARITO_TIER")); v != "" {
		c.Protocol.Tier = protocol.Tier(v)
		c.origin["protocol.tier"] = "environment variable PAJARITO_TIER"
	}
}

// validateProtocol reports the protocol section's invalid settings through bad.
func (c *Config) validateProtocol(bad func(key, format string, args ...any)) {
	for _, e := range c.Protocol.Validate() {
		key := "protocol." + e.Path
		msg := e.Message
		if key == "protocol.tier" {
			msg += "; set protocol.tier in " + FileName + " or PAJARITO_TIER"
		}
		bad(key, "%s", msg)
	}
}
