package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pajarito-care/pajarito/shared/health"
)

// doctorTimeout bounds the whole check: the API runs its checks concurrently,
// each within health.CheckTimeout.
const doctorTimeout = 60 * time.Second

const doctorUsage = `Usage: pajarito doctor [--url API] [--token T] [--lang en|es] [--json]

Checks a deployment (or the local system) end to end and prints one line per
check — ok, warning or FAILURE — and, for each warning or failure, what to do:
the X credentials (a cheap owned read), the brand's authorisation, the webhook
registered and valid with X and answering X's CRC check, the brand's
subscriptions, the listener's last reads and X's rate limit, the month's X
spend against the budget, the queues and their dead letters, quarantined
deliveries, replies that failed or may not have been sent, open crises and, in
AWS, the alarms in ALARM. The checks run in the agent API (GET /v1/health), with
its own permissions.

Exit status: 0 when every check is ok or a warning, 1 when any check fails (or
the API cannot be reached), 2 on a usage error.
`

// exitError ends the program with code after printing err (when not nil).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, doctorUsage+"\nFlags:\n"); fs.PrintDefaults() }
	base := fs.String("url", "http://127.0.0.1:8080", "the agent API's base URL: the local system's, or the deployed stack's (the ApiUrl output)")
	token := fs.String("token", os.Getenv("PAJARITO_AGENT_TOKEN"), "agent bearer token (default $PAJARITO_AGENT_TOKEN)")
	lang := fs.String("lang", defaultLang(os.Getenv), "the language of the findings: en or es (default from $LANG)")
	asJSON := fs.Bool("json", false, "print the API's JSON report instead of lines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("doctor: unexpected argument %q", fs.Arg(0))
	}
	if *lang != "en" && *lang != "es" {
		return fmt.Errorf("doctor: --lang %q: use en or es", *lang)
	}
	ctx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	body, asked, err := getAgentAPI(ctx, "doctor", *base, *token, "/v1/health", nil)
	if err != nil {
		// The API itself is the first check: without it nothing else can be told.
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		printCheck(tw, health.Check{Name: "agent_api", Status: health.Failure,
			Summary: map[string]string{"en": err.Error(), "es": err.Error()},
			Fix: map[string]string{
				"en": "start the local system (make dev) or pass the stack's ApiUrl output as --url, with a valid --token",
				"es": "arranque el sistema local (make dev) o pase la salida ApiUrl del stack como --url, con un --token válido",
			}}, *lang)
		tw.Flush()
		return &exitError{code: 1}
	}
	var rep health.Report
	if err := json.Unmarshal(body, &rep); err != nil || rep.Status == "" {
		return &exitError{code: 1, err: fmt.Errorf("doctor: the answer of GET %s is not a health report: %w", asked, err)}
	}
	if *asJSON {
		if _, err := stdout.Write(append(body, '\n')); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		for _, c := range rep.Checks {
			printCheck(tw, c, *lang)
		}
		tw.Flush()
		fmt.Fprintln(stdout, doctorSummary(rep, *lang))
	}
	if rep.Status == health.Failure {
		return &exitError{code: 1}
	}
	return nil
}

// printCheck writes a check's line and, for a warning or a failure, its fix.
func printCheck(w io.Writer, c health.Check, lang string) {
	status := string(c.Status)
	if c.Status == health.Failure {
		status = "FAILURE"
	}
	fmt.Fprintf(w, "%s\t%s\t%s\n", status, c.Name, inLang(c.Summary, lang))
	if fix := inLang(c.Fix, lang); fix != "" && c.Status != health.OK {
		label := "fix:"
		if lang == "es" {
			label = "solución:"
		}
		fmt.Fprintf(w, "\t\t%s %s\n", label, fix)
	}
}

// inLang returns the text in lang, or in English.
func inLang(m map[string]string, lang string) string {
	if s, ok := m[lang]; ok {
		return s
	}
	return m["en"]
}

func doctorSummary(rep health.Report, lang string) string {
	var failures, warnings int
	for _, c := range rep.Checks {
		switch c.Status {
		case health.Failure:
			failures++
		case health.Warning:
			warnings++
		}
	}
	at := rep.CheckedAt.UTC().Format(time.RFC3339)
	if lang == "es" {
		return fmt.Sprintf("doctor: %d comprobaciones, %d fallos, %d avisos (%s)", len(rep.Checks), failures, warnings, at)
	}
	return fmt.Sprintf("doctor: %d checks, %d failures, %d warnings (%s)", len(rep.Checks), failures, warnings, at)
}

// defaultLang is es when $LANG (or $LC_ALL) says Spanish, else en.
func defaultLang(getenv func(string) string) string {
	for _, k := range []string{"LC_ALL", "LANG"} {
		if v := getenv(k); v != "" {
			if strings.HasPrefix(strings.ToLower(v), "es") {
				return "es"
			}
			return "en"
		}
	}
	return "en"
}

// exitCode is the process's exit status for err returned by run.
func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return 2
}
