// Command listen is the Lambda function EventBridge Scheduler runs every poll
// interval: it reads what is new in the brand's mentions and keyword searches,
// within the monthly X budget, and queues it on the inbound queue.
package main

import (
	"context"

	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/listen"
	build "github.com/pajarito-care/pajarito/shared/wire/listen"
)

func main() {
	boot.Run("listen", build.Build, func(l *listen.Listener) any {
		// A source that failed fails the invocation, so that it shows in the
		// function's error metric and alarm; the checkpoints make a retry safe.
		return func(ctx context.Context) error {
			report, err := l.Run(ctx)
			if err != nil {
				return err
			}
			return report.Err()
		}
	})
}
