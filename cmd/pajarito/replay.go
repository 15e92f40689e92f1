package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/replay"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

const replayUsage = `Usage: pajarito replay [flags] FILE|DIR ...

Signs each webhook body like X does (x-twitter-webhooks-signature) and POSTs it.

  *.json  a webhook body, sent as it is.
  *.csv   recorded conversations (the layout of the public "Customer Support on
          Twitter" dataset: tweet_id,author_id,inbound,created_at,text,
          response_tweet_id,in_response_to_tweet_id, and an optional lang), turned
          into X Activity API deliveries for the brand of pajarito.json with their
          original timing and time of day on the server's clock (GET /healthz):
          with --speed, paced as the server's clock reaches each post (those of
          the day already past sent at once); without it, sent at once, all in
          the past. With --out, written into a folder instead, one webhook body
          per post at the recording's own dates.

Folders are replayed in name order. Example, the recorded day (26.6 hours) in
under half an hour:

  pajarito dev --speed 60 &
  pajarito replay --speed 60x events/conversations/
`

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("url", "http://127.0.0.1:8080/webhooks/x", "webhook URL to POST to")
	secret := fs.String("secret", envOr("X_CONSUMER_SECRET", devSecret), "X consumer secret that signs the bodies (default $X_CONSUMER_SECRET, else the dev system's)")
	speedFlag := fs.String("speed", "", "replay conversations (.csv) live, this many times faster than they happened, e.g. 60x; the server's clock must run as fast (pajarito dev --speed 60)")
	outDir := fs.String("out", "", "write the webhook bodies of recorded conversations (.csv) into this folder, at their original dates, instead of sending them")
	fs.Usage = func() {
		fmt.Fprint(stderr, replayUsage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("replay: name at least one file or folder (e.g. events/xaa-mention-es.json)")
	}
	speed, err := parseSpeed(*speedFlag)
	if err != nil {
		return err
	}
	files, err := replayFiles(fs.Args())
	if err != nil {
		return err
	}
	if *outDir != "" {
		return writeConversations(files, *outDir, stdout)
	}
	r := &replayer{client: &http.Client{Timeout: 15 * time.Second}, url: *target, secret: []byte(*secret), speed: speed, out: stdout}
	for _, f := range files {
		if strings.EqualFold(filepath.Ext(f), ".csv") {
			if err := r.conversations(ctx, f); err != nil {
				return err
			}
			continue
		}
		body, err := os.ReadFile(f)
		if err != nil {
			r.failed++
			r.deliveries++
			fmt.Fprintf(stdout, "%-40s error: %v\n", filepath.Base(f), err)
			continue
		}
		r.send(ctx, filepath.Base(f), body)
	}
	if r.failed > 0 {
		return fmt.Errorf("replay: %d of %d deliveries failed", r.failed, r.deliveries)
	}
	return nil
}

// parseSpeed reads --speed: "60x" or "60"; "" is 0, no pacing.
func parseSpeed(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), "x"), 64)
	if err != nil || v <= 0 || v > 1e6 {
		return 0, fmt.Errorf("replay: --speed %q: want how many times faster than real time, e.g. 60x (1x is real time)", s)
	}
	return v, nil
}

// replayFiles expands folders into their *.json and *.csv files, in name order.
func replayFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		var m []string
		for _, e := range entries {
			if ext := strings.ToLower(filepath.Ext(e.Name())); !e.IsDir() && (ext == ".json" || ext == ".csv") {
				m = append(m, filepath.Join(p, e.Name()))
			}
		}
		sort.Strings(m)
		files = append(files, m...)
	}
	return files, nil
}

// replayer delivers bodies to one webhook and counts the outcomes.
type replayer struct {
	client             *http.Client
	url                string
	secret             []byte
	speed              float64 // 0: no pacing
	out                io.Writer
	deliveries, failed int
}

// send POSTs one signed body and prints the outcome under name.
func (r *replayer) send(ctx context.Context, name string, body []byte) {
	r.deliveries++
	status, answer, err := r.post(ctx, body)
	switch {
	case err != nil:
		r.failed++
		fmt.Fprintf(r.out, "%-40s error: %v\n", name, err)
	case status == http.StatusUnauthorized:
		r.failed++
		fmt.Fprintf(r.out, "%-40s %d %s — the secret does not match the server's X_CONSUMER_SECRET\n", name, status, answer)
	case status >= 500:
		r.failed++
		fmt.Fprintf(r.out, "%-40s %d %s\n", name, status, answer)
	default:
		fmt.Fprintf(r.out, "%-40s %d %s\n", name, status, answer)
	}
}

func (r *replayer) post(ctx context.Context, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(xwebhook.SignatureHeader, xwebhook.Sign(r.secret, body))
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}

// conversations replays a recorded conversations file on the server's clock.
func (r *replayer) conversations(ctx context.Context, file string) error {
	posts, err := readConversations(file)
	if err != nil {
		return err
	}
	brand, err := replayBrand()
	if err != nil {
		return err
	}
	clock, err := r.serverClock(ctx)
	if err != nil {
		return err
	}
	// The recording keeps its time of day: it starts at the latest such time
	// by the server's now (paced: what is already past is sent at once, the
	// rest as the server's clock reaches it) or, sent at once, by the time that
	// leaves its last post in the past.
	span, latest := replay.Span(posts), clock.Time
	if r.speed == 0 {
		latest = clock.Time.Add(-span)
	} else if clock.ClockSpeed != r.speed {
		return fmt.Errorf("replay: the server's clock runs at %gx and --speed is %gx: start the local system with `pajarito dev --speed %g`, or replay with --speed %gx", clock.ClockSpeed, r.speed, r.speed, clock.ClockSpeed)
	}
	start := replay.Start(replay.First(posts), latest)
	events, err := replay.Events(posts, brand, start)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if r.speed > 0 {
		past := min(clock.Time.Sub(start), span)
		fmt.Fprintf(r.out, "%s: %d posts over %s from %s, replayed at %gx: %s already past sent at once, the rest over %s\n",
			filepath.Base(file), len(events), span, start.Format(time.RFC3339), r.speed, past.Round(time.Second), time.Duration(float64(span-past)/r.speed).Round(time.Second))
	} else {
		fmt.Fprintf(r.out, "%s: %d posts over %s from %s, sent at once\n", filepath.Base(file), len(events), span, start.Format(time.RFC3339))
	}
	began := time.Now()
	for _, ev := range events {
		if r.speed > 0 {
			due := began.Add(time.Duration(float64(ev.At.Sub(clock.Time)) / r.speed))
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Until(due)):
			}
		}
		r.send(ctx, fmt.Sprintf("%s %s %s", ev.At.Format("15:04:05"), ev.Type, ev.PostID), ev.Body)
	}
	return nil
}

// writeConversations writes the deliveries of recorded conversations into dir,
// one file each, at the recording's own dates, named so that the folder replays
// in the order the posts were written: "<recording>-0001-post.mention.create.json".
func writeConversations(files []string, dir string, stdout io.Writer) error {
	brand, err := replayBrand()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("replay: --out: %w", err)
	}
	for _, file := range files {
		if !strings.EqualFold(filepath.Ext(file), ".csv") {
			return fmt.Errorf("replay: --out converts recorded conversations (.csv); %s is a webhook body already", file)
		}
		posts, err := readConversations(file)
		if err != nil {
			return err
		}
		events, err := replay.Events(posts, brand, replay.First(posts))
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
		for i, ev := range events {
			path := filepath.Join(dir, fmt.Sprintf("%s-%04d-%s.json", name, i+1, ev.Type))
			if err := os.WriteFile(path, append(ev.Body, '\n'), 0o644); err != nil {
				return fmt.Errorf("replay: --out: %w", err)
			}
		}
		fmt.Fprintf(stdout, "%s: wrote %d webhook bodies to %s (replay them with: pajarito replay %s)\n", filepath.Base(file), len(events), dir, dir)
	}
	return nil
}

// readConversations reads a recorded conversations file.
func readConversations(file string) ([]replay.Post, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	posts, err := replay.ReadCSV(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return posts, nil
}

// serverClock reads the server's clock from GET /healthz beside the webhook.
func (r *replayer) serverClock(ctx context.Context) (boot.Health, error) {
	u, err := url.Parse(r.url)
	if err != nil {
		return boot.Health{}, fmt.Errorf("replay: --url %q: %w", r.url, err)
	}
	u.Path, u.RawQuery = strings.TrimSuffix(u.Path, "/webhooks/x")+"/healthz", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return boot.Health{}, fmt.Errorf("replay: %w", err)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return boot.Health{}, fmt.Errorf("replay: reading the server's clock: %w (is the system running? pajarito dev)", err)
	}
	defer resp.Body.Close()
	var h boot.Health
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&h); err != nil || resp.StatusCode != http.StatusOK || h.Time.IsZero() {
		return boot.Health{}, fmt.Errorf("replay: GET %s answered %s without the server's time: conversations need a Pajarito server that reports its clock", u, resp.Status)
	}
	if h.ClockSpeed <= 0 {
		h.ClockSpeed = 1
	}
	return h, nil
}

// replayBrand is the brand of pajarito.json, whose conversations are replayed.
func replayBrand() (care.Brand, error) {
	path, err := config.Find(nil)
	if err != nil {
		return care.Brand{}, fmt.Errorf("replay: conversations are replayed for the brand of pajarito.json: %w", err)
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		return care.Brand{}, err
	}
	return cfg.Brand, nil
}
