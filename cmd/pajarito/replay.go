package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:8080/webhooks/x", "webhook URL to POST to")
	secret := fs.String("secret", envOr("X_CONSUMER_SECRET", devSecret), "X consumer secret that signs the bodies (default $X_CONSUMER_SECRET, else the dev system's)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: pajarito replay [flags] FILE|DIR ...\n\nSigns each JSON file like X does (x-twitter-webhooks-signature) and POSTs it.\nFolders are replayed in name order.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("replay: name at least one file or folder (e.g. events/xaa-mention-es.json)")
	}
	files, err := replayFiles(fs.Args())
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 15 * time.Second}
	var failed int
	for _, f := range files {
		status, body, err := replayOne(ctx, client, *url, []byte(*secret), f)
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(stdout, "%-40s error: %v\n", filepath.Base(f), err)
		case status == http.StatusUnauthorized:
			failed++
			fmt.Fprintf(stdout, "%-40s %d %s — the secret does not match the server's X_CONSUMER_SECRET\n", filepath.Base(f), status, body)
		case status >= 500:
			failed++
			fmt.Fprintf(stdout, "%-40s %d %s\n", filepath.Base(f), status, body)
		default:
			fmt.Fprintf(stdout, "%-40s %d %s\n", filepath.Base(f), status, body)
		}
	}
	if failed > 0 {
		return fmt.Errorf("replay: %d of %d deliveries failed", failed, len(files))
	}
	return nil
}

// replayFiles expands folders into their *.json files, in name order.
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
		m, err := filepath.Glob(filepath.Join(p, "*.json"))
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		sort.Strings(m)
		files = append(files, m...)
	}
	return files, nil
}

func replayOne(ctx context.Context, client *http.Client, url string, secret []byte, file string) (int, string, error) {
	body, err := os.ReadFile(file)
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-twitter-webhooks-signature", xwebhook.Sign(secret, body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}
