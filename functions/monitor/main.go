// Command monitor is the Lambda function EventBridge Scheduler runs every minute:
// it sweeps the crisis states (closing the crises that calmed down, with an alert)
// and reports the active crises as metrics. See package monitor.
package main

import (
	"context"
	"encoding/json"

	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/monitor"
	build "github.com/pajarito-care/pajarito/shared/wire/monitor"
)

func main() {
	boot.Run("monitor", build.Build, func(m *monitor.Monitor) any {
		// The scheduler's payload carries nothing the checks need.
		return func(ctx context.Context, _ json.RawMessage) (monitor.Report, error) { return m.Run(ctx) }
	})
}
