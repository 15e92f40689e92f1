package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
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

func runQuarantine(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "list" {
		fmt.Fprintln(stderr, "Usage: pajarito quarantine list [flags]\n\nLists the deliveries the processor could not read (quarantined), newest first,\nwith why, from the agent API (GET /v1/quarantine).")
		if len(args) == 0 {
			return flag.ErrHelp
		}
		return fmt.Errorf("quarantine: unknown command %q: use list", args[0])
	}
	fs := flag.NewFlagSet("quarantine list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "the agent API's base URL: the local system's, or the deployed stack's")
	token := fs.String("token", os.Getenv("PAJARITO_AGENT_TOKEN"), "agent bearer token (default $PAJARITO_AGENT_TOKEN)")
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
	fmt.Fprintf(stdout, "\n%d quarantined. They are kept 30 days; fix what the problem names, then send the delivery again (X's own retry, or pajarito replay of the body).\n", len(list.Quarantined))
	return nil
}

// oneLine returns s on one line, cut to n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
