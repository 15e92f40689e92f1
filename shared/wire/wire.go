// Package wire holds what the functions' builders share. Each Lambda function has
// its builder in a package of its own under wire (wire/webhook, wire/process,
// wire/reply, wire/listen, wire/monitor, wire/agentapi), so that it links only
// what it uses. A builder has two entry points: Build, which reads the
// environment the stack (infra) sets and makes the AWS clients, and New, which
// takes the parts already made. Build calls New, and the local dev system calls
// New with its stand-ins for AWS and X: the same construction for both, so that
// what runs locally is what runs in AWS. What every process starts with (logger,
// settings, routes, the Lambda main) is package boot; the environment's names
// are package settings.
package wire

import (
	"log/slog"
	"time"

	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/store"
)

// NewStore returns the store over table with the configuration's retention.
func NewStore(cfg *config.Config, client store.API, table string, log *slog.Logger) *store.Store {
	s := store.New(client, table)
	s.RawRetention = time.Duration(cfg.RawRetentionDays) * 24 * time.Hour
	s.Log = log
	return s
}
