package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pajarito-care/pajarito/shared/agentapi"
)

// quarantineTimeout bounds the request for the quarantined deliveries.
const quarantineTimeout = 30 * time.Second

// quarantined is one delivery of GET /v1/quarantine, as this command prints it.
type quarantined struct {
	SQSMessageID  string    `json:"sqs_message_id"`
	SentAt        time.Time `json:"sent_at"`
	ReceiveCount  int       `json:"receive_count"`
	Problem       string    `json:"problem"`
	QuarantinedAt time.Time `json:"quarantined_at"`
	Body          string    `json:"body"`
}

const quarantineUsage = `Usage:
  pajarito quarantine list [flags]    the deliveries the processor could not read, newest first, and why
  pajarito quarantine retry [flags]   put them back on the inbound queue, once a fix is deployed

Both go through the agent API (GET /v1/quarantine, POST /v1/quarantine/retry).`

func runQuarantine(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "retry" {
		return runQuarantineRetry(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "list" {
		fmt.Fprintln(stderr, quarantineUsage)
		if len(args) == 0 {
			return flag.ErrHelp
		}
		return fmt.Errorf("quarantine: unknown command %q: use list or retry", args[0])
	}
	fs := flag.NewFlagSet("quarantine list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base, token := agentAPIFlags(fs)
	limit := fs.Int("limit", 50, "at most this many deliveries")
	asJSON := fs.Bool("json", false, "print the API's JSON instead of a table")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("quarantine list: unexpected argument %q", fs.Arg(0))
	}
	ctx, cancel := context.WithTimeout(ctx, quarantineTimeout)
	defer cancel()
	body, asked, err := getAgentAPI(ctx, "quarantine list", *base, *token, "/v1/quarantine", url.Values{"limit": {strconv.Itoa(*limit)}})
	if err != nil {
		return err
	}
	if *asJSON {
		_, err := stdout.Write(append(body, '\n'))
		return err
	}
	var list struct {
		Quarantined []quarantined `json:"quarantined"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return fmt.Errorf("quarantine list: the response of GET %s is not a list of deliveries: %w", asked, err)
	}
	if len(list.Quarantined) == 0 {
		fmt.Fprintln(stdout, "No quarantined delivery: every delivery accepted was read.")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "QUARANTINED\tSQS MESSAGE\tRECEIVES\tPROBLEM\tBODY")
	for _, q := range list.Quarantined {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", q.QuarantinedAt.UTC().Format(time.RFC3339), q.SQSMessageID, q.ReceiveCount, oneLine(q.Problem, 80), oneLine(q.Body, 60))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\n%d quarantined. They are kept 30 days; fix what the problem names, deploy the fix, then put them back on the inbound queue: pajarito quarantine retry --all (or --id SQS_MESSAGE_ID).\n", len(list.Quarantined))
	return nil
}

// agentAPIFlags adds the flags that reach the agent API: --url and --token.
func agentAPIFlags(fs *flag.FlagSet) (base, token *string) {
	base = fs.String("url", "http://127.0.0.1:8080", "the agent API's base URL: the local system's, or the deployed stack's")
	token = fs.String("token", os.Getenv("PAJARITO_AGENT_TOKEN"), "agent bearer token (default $PAJARITO_AGENT_TOKEN)")
	return base, token
}

// idList is a flag that may be given more than once.
type idList []string

func (l *idList) String() string { return strings.Join(*l, ",") }

func (l *idList) Set(v string) error {
	for _, id := range strings.Split(v, ",") {
		if id = strings.TrimSpace(id); id != "" {
			*l = append(*l, id)
		}
	}
	return nil
}

const quarantineRetryHelp = `Usage: pajarito quarantine retry [--url API] [--token T] (--id SQS_MESSAGE_ID ... | --all)

Puts quarantined deliveries back on the inbound queue, with the body the store
kept, once a fix for what quarantined them is deployed; each then leaves the
quarantine. A body the processor still cannot read is simply quarantined again
(under a new SQS message id). Running it twice requeues nothing twice.
A delivery whose stored body was truncated cannot be sent again: it stays
quarantined, and the line says so. Quarantined deliveries also sit on the inbound
dead-letter queue: redriving that queue too sends them a second time, which the
processor deduplicates.

Flags:`

// runQuarantineRetry is pajarito quarantine retry: it sends POST
// /v1/quarantine/retry until every delivery asked for is done, and prints the
// counts on one line. It fails when a delivery failed.
func runQuarantineRetry(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quarantine retry", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, quarantineRetryHelp)
		fs.PrintDefaults()
	}
	base, token := agentAPIFlags(fs)
	var ids idList
	fs.Var(&ids, "id", "the SQS message id of a quarantined delivery (from pajarito quarantine list); give it once per delivery, or comma-separated")
	all := fs.Bool("all", false, "every quarantined delivery, oldest first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("quarantine retry: unexpected argument %q: name deliveries with --id", fs.Arg(0))
	case *all && len(ids) > 0:
		return errors.New("quarantine retry: give --id or --all, not both")
	case !*all && len(ids) == 0:
		return errors.New("quarantine retry: name the deliveries: --id SQS_MESSAGE_ID (see pajarito quarantine list) or --all")
	}
	var (
		sum      agentapi.QuarantineRetryResult
		requests []agentapi.QuarantineRetryRequest
	)
	for chunk := range slices.Chunk(ids, agentapi.MaxRetryIDs) {
		requests = append(requests, agentapi.QuarantineRetryRequest{IDs: chunk})
	}
	if *all {
		requests = []agentapi.QuarantineRetryRequest{{All: true}}
	}
	for len(requests) > 0 {
		req := requests[0]
		requests = requests[1:]
		rctx, cancel := context.WithTimeout(ctx, quarantineTimeout)
		body, asked, err := postAgentAPI(rctx, "quarantine retry", *base, *token, "/v1/quarantine/retry", req)
		cancel()
		if err != nil {
			if sum.Requeued > 0 {
				err = fmt.Errorf("%w (%d requeued before this failed)", err, sum.Requeued)
			}
			return err
		}
		var res agentapi.QuarantineRetryResult
		if err := json.Unmarshal(body, &res); err != nil {
			return fmt.Errorf("quarantine retry: the response of POST %s is not a retry result: %w", asked, err)
		}
		sum.Requeued += res.Requeued
		sum.NotFound += res.NotFound
		sum.NotRetryable += res.NotRetryable
		sum.Busy += res.Busy
		sum.Failed += res.Failed
		sum.Deliveries = append(sum.Deliveries, res.Deliveries...)
		if res.Next != "" {
			requests = append(requests, agentapi.QuarantineRetryRequest{All: true, After: res.Next})
		}
	}
	line := fmt.Sprintf("requeued %d, already gone or not found %d, not retryable %d, busy %d, failed %d", sum.Requeued, sum.NotFound, sum.NotRetryable, sum.Busy, sum.Failed)
	if ns := outcomeIDs(sum, agentapi.RetryNotRetryable); len(ns) > 0 {
		line += "; not retryable (their stored body cannot be sent again, they stay quarantined: have them sent again from their source): " + strings.Join(ns, " ")
	}
	if bs := outcomeIDs(sum, agentapi.RetryBusy); len(bs) > 0 {
		line += "; busy (another retry is sending them): " + strings.Join(bs, " ")
	}
	fmt.Fprintln(stdout, line)
	if sum.Failed > 0 {
		return fmt.Errorf("quarantine retry: %d deliveries could not be requeued and stay quarantined (%s): the agent API's log says why; run the same command again", sum.Failed, strings.Join(outcomeIDs(sum, agentapi.RetryFailed), " "))
	}
	return nil
}

// outcomeIDs returns the ids of the deliveries with outcome.
func outcomeIDs(res agentapi.QuarantineRetryResult, outcome string) []string {
	var out []string
	for _, d := range res.Deliveries {
		if d.Outcome == outcome {
			out = append(out, d.SQSMessageID)
		}
	}
	return out
}

// oneLine returns s on one line, cut to n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
