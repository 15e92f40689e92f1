package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/queue"
)

// dlqTimeout bounds each request of pajarito dlq: locally the redrive moves the
// messages before it answers.
const dlqTimeout = 2 * time.Minute

const dlqUsage = `Usage: pajarito dlq redrive [--queue inbound|outbound|all] [--url API] [--token T]

Moves the messages of the dead-letter queue(s) back to their source queue, once
what failed them (the function's log names it) is fixed and deployed, and prints
a line per queue: what it held before and after, and what was moved. In AWS it
starts SQS's message move task, which moves them in the background (run it
again to see its progress: it never starts a second task while one runs);
locally it moves them before it answers. Messages that fail again come back to
the dead-letter queue after their retries. Through the agent API
(POST /v1/dlq/redrive, GET /v1/dlq).

Flags:`

// runDLQ is pajarito dlq.
func runDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dlq redrive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, dlqUsage)
		fs.PrintDefaults()
	}
	if len(args) == 0 || args[0] != "redrive" {
		fs.Usage()
		if len(args) == 0 {
			return flag.ErrHelp
		}
		return fmt.Errorf("dlq: unknown command %q: use redrive", args[0])
	}
	base, token := agentAPIFlags(fs)
	which := fs.String("queue", "all", "the dead-letter queue to redrive: inbound, outbound or all")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("dlq redrive: unexpected argument %q", fs.Arg(0))
	}
	switch *which {
	case agentapi.QueueInbound, agentapi.QueueOutbound, "all":
	default:
		return fmt.Errorf("dlq redrive: --queue %q: use inbound, outbound or all", *which)
	}
	rctx, cancel := context.WithTimeout(ctx, dlqTimeout)
	defer cancel()
	body, asked, err := postAgentAPI(rctx, "dlq redrive", *base, *token, "/v1/dlq/redrive", agentapi.DLQRedriveRequest{Queue: *which})
	if err != nil {
		return err
	}
	var res agentapi.DLQRedriveResult
	if err := json.Unmarshal(body, &res); err != nil {
		return fmt.Errorf("dlq redrive: the response of POST %s is not a redrive result: %w", asked, err)
	}
	// What they hold now; the redrive is done without it.
	after := map[string]queue.Depth{}
	if body, asked, err := getAgentAPI(rctx, "dlq redrive", *base, *token, "/v1/dlq", nil); err != nil {
		fmt.Fprintf(stderr, "dlq redrive: the depths after are unknown: %v\n", err)
	} else {
		var l agentapi.DLQList
		if err := json.Unmarshal(body, &l); err != nil {
			fmt.Fprintf(stderr, "dlq redrive: the response of GET %s is not a list of queues: %v\n", asked, err)
		}
		for _, d := range l.Queues {
			after[d.Queue] = d
		}
	}
	var failed []string
	for _, q := range res.Queues {
		fmt.Fprintln(stdout, redriveLine(q, after))
		if q.Error != "" {
			failed = append(failed, q.Queue)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("dlq redrive: the redrive of %s failed: the agent API's log says why; what was not moved is still in the dead-letter queue: run the same command again", strings.Join(failed, " and "))
	}
	return nil
}

// redriveLine says in one line what the redrive of one queue did.
func redriveLine(q agentapi.DLQRedriven, after map[string]queue.Depth) string {
	line := fmt.Sprintf("%s: %d in the dead-letter queue before", q.Queue, q.DepthBefore)
	if d, ok := after[q.Queue]; ok {
		line += fmt.Sprintf(", %d after", d.Visible+d.InFlight)
	}
	switch {
	case q.Method == queue.MethodByHand:
		line += fmt.Sprintf("; moved %d back to the %s queue", q.Moved, q.Queue)
	case q.MoveTask == nil:
		line += "; nothing to move (SQS's counts lag by about a minute: run it again if messages just arrived)"
	default:
		t := q.MoveTask
		verb := "move task started"
		if q.AlreadyRunning {
			verb = "a move task is already running (none started)"
		}
		line += fmt.Sprintf("; %s: %s, %d moved", verb, t.Handle, t.Moved)
		if t.ToMove != nil {
			line += fmt.Sprintf(" of %d", *t.ToMove)
		}
		line += " so far; SQS moves them in the background: run it again to see the progress"
	}
	if q.Error != "" {
		line += "; FAILED: " + q.Error
	}
	return line
}
