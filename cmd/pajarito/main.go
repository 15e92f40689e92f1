// Command pajarito is the operator's tool: it runs the whole system locally,
// replays sample X webhook events into it, labels and learns offline, writes the
// service report, registers the webhook with X, and checks and repairs a
// deployment. The usage constant below is its help, one line per command.
//
//	pajarito dev [--addr 127.0.0.1:8080] [--data .pajarito] [--memory]
//	pajarito replay [--url URL] FILE|DIR ...
//	pajarito classify [--config FILE] [--model FILE] [--channel public|dm] < lines.jsonl
//	pajarito learn [--min-per-class N] < labelled.jsonl > model.json
//	pajarito report [--url URL] [--token T] [--from DAY] [--to DAY] [--lang es|en] [-o report.html]
//	pajarito webhook register --url URL [--api xaa|aaa|both] [--user-id ID] [--dry-run]
//	pajarito webhook list|delete ...
//	pajarito quarantine list|retry [--url API] [--token T] ...
//	pajarito dlq redrive [--queue inbound|outbound|all] [--url API] [--token T]
//	pajarito doctor [--url API] [--token T] [--lang es|en] [--json]
//	pajarito x auth [--client-id ID] [--redirect URL] [--out FILE] [--user-id ID]
//	pajarito xchat setup [--user-id ID] [--out FILE] [--oauth2 FILE] [--rotate]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// devSecret is the webhook HMAC key the local system and replay use when
// X_CONSUMER_SECRET is not set.
const devSecret = "pajarito-dev-consumer-secret"

const usage = `pajarito — customer care on X from your own AWS account.

Usage:
  pajarito dev [flags]           run the whole system locally (no AWS account needed)
  pajarito replay [flags] PATH   sign and POST sample webhook events (files or folders)
  pajarito classify [flags]      label JSON lines {"id","text","lang"?} from stdin
  pajarito learn [flags]         train the corrections model from labelled JSON lines on stdin
  pajarito report [flags]        write the service report (HTML) from the agent API's data
  pajarito webhook COMMAND       register the stack's webhook with X and subscribe the brand (register, list, delete)
  pajarito quarantine list       the deliveries the processor could not read, and why
  pajarito quarantine retry      put them back on the inbound queue once a fix is deployed (--id ID ... or --all)
  pajarito dlq redrive           move dead letters back to their queue (--queue inbound|outbound|all)
  pajarito x auth                sign the brand in with OAuth 2.0 (for X Chat) and keep its tokens
  pajarito xchat setup           make the brand's X Chat keys, register them with X, keep the private keys (--rotate)
  pajarito doctor                check a deployment (or the local system) end to end: what is wrong, and the fix

Run "pajarito COMMAND -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		var quiet *exitError
		if !errors.Is(err, flag.ErrHelp) && !(errors.As(err, &quiet) && quiet.err == nil) {
			fmt.Fprintln(os.Stderr, "pajarito:", err)
		}
		os.Exit(exitCode(err))
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "dev":
		return runDev(ctx, args[1:], stdout, stderr)
	case "replay":
		return runReplay(ctx, args[1:], stdout, stderr)
	case "classify":
		return runClassify(ctx, args[1:], os.Stdin, stdout, stderr)
	case "learn":
		return runLearn(ctx, args[1:], os.Stdin, stdout, stderr)
	case "report":
		return runReport(ctx, args[1:], stdout, stderr)
	case "webhook":
		return runWebhook(ctx, args[1:], stdout, stderr)
	case "quarantine":
		return runQuarantine(ctx, args[1:], stdout, stderr)
	case "dlq":
		return runDLQ(ctx, args[1:], stdout, stderr)
	case "doctor":
		return runDoctor(ctx, args[1:], stdout, stderr)
	case "x":
		return runX(ctx, args[1:], stdout, stderr)
	case "xchat":
		return runXChat(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// subcommand is one command of a group: pajarito webhook register, ….
type subcommand struct {
	name string
	run  func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// runGroup runs the command of group that args[0] names, with the rest of
// args; it shows usage for help, and for nothing or an unknown command (then
// an error naming the commands there are).
func runGroup(ctx context.Context, group, usage string, cmds []subcommand, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	names := make([]string, len(cmds))
	for i, c := range cmds {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
		names[i] = c.name
	}
	use := names[len(names)-1]
	if len(names) > 1 {
		use = strings.Join(names[:len(names)-1], ", ") + " or " + use
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("%s: unknown command %q: use %s", group, args[0], use)
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
