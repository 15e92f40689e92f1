package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/report"
)

// reportTimeout bounds the request for the report's data.
const reportTimeout = 60 * time.Second

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "the agent API's base URL: the local system's, or the deployed stack's (with its stage)")
	token := fs.String("token", os.Getenv("PAJARITO_AGENT_TOKEN"), "agent bearer token (default $PAJARITO_AGENT_TOKEN)")
	from := fs.String("from", "", "first day of the period, 2006-01-02 in the brand's time zone (default: four weeks to --to)")
	to := fs.String("to", "", "last day of the period, included (default: today)")
	lang := fs.String("lang", "es", "the report's language: "+strings.Join(report.Langs, " or "))
	out := fs.String("o", "report.html", `file to write the page to ("-" for standard output)`)
	data := fs.String("data", "", "render this JSON file of report data (what GET /v1/report returns as JSON) instead of asking the API")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: pajarito report [flags]\n\nWrites the service report, one self-contained HTML page, from the agent API's data\n(GET /v1/report): volume, first-response times, CSAT, the staffing plan.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("report: unexpected argument %q", fs.Arg(0))
	}
	if !slices.Contains(report.Langs, *lang) {
		return fmt.Errorf("report: --lang %q: write the report in %s", *lang, strings.Join(report.Langs, " or "))
	}
	for _, f := range []struct{ name, v string }{{"from", *from}, {"to", *to}} {
		if _, err := time.Parse(time.DateOnly, f.v); f.v != "" && err != nil {
			return fmt.Errorf("report: --%s %q is not a day: write it like 2026-08-01", f.name, f.v)
		}
	}

	var d report.Data
	var err error
	if *data != "" {
		d, err = readReportData(*data)
	} else {
		d, err = fetchReportData(ctx, *base, *token, *from, *to, *lang)
	}
	if err != nil {
		return err
	}
	var page bytes.Buffer
	if err := report.Render(&page, d, *lang); err != nil {
		return err
	}
	if *out == "-" {
		_, err := stdout.Write(page.Bytes())
		return err
	}
	if err := os.WriteFile(*out, page.Bytes(), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: %d cases, %s to %s (%s)\n", *out, d.Summary.Cases,
		d.From.Format(time.RFC3339), d.To.Format(time.RFC3339), d.Timezone)
	return nil
}

// readReportData reads a JSON file of report.Data.
func readReportData(path string) (report.Data, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return report.Data{}, fmt.Errorf("report: %w", err)
	}
	return decodeReportData(b, path, true)
}

// decodeReportData decodes b, read from from; strict refuses unknown fields.
func decodeReportData(b []byte, from string, strict bool) (report.Data, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if strict {
		dec.DisallowUnknownFields()
	}
	var d report.Data
	if err := dec.Decode(&d); err != nil {
		return report.Data{}, fmt.Errorf("report: %s is not report data: %w", from, err)
	}
	return d, nil
}

// fetchReportData asks the agent API at base for the report's data.
func fetchReportData(ctx context.Context, base, token, from, to, lang string) (report.Data, error) {
	q := url.Values{"lang": {lang}}
	if from != "" {
		q.Set("from", from)
	}
	if to != "" {
		q.Set("to", to)
	}
	ctx, cancel := context.WithTimeout(ctx, reportTimeout)
	defer cancel()
	body, asked, err := getAgentAPI(ctx, "report", base, token, "/v1/report", q)
	if err != nil {
		return report.Data{}, err
	}
	// A newer API may send fields this command does not know yet.
	return decodeReportData(body, "the response of GET "+asked, false)
}
