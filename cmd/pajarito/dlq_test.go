package main

import (
	"bytes"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/local/localdev"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// startLocal starts the local system with its data in dir and returns it.
func startLocal(t *testing.T, dir, token string, secret []byte) (*localdev.System, *config.Config) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(root, "pajarito.json"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	sys, err := localdev.Start(t.Context(), localdev.Options{
		Addr: "127.0.0.1:0", DataDir: dir, Config: cfg, Secret: secret, AgentToken: token, Root: root,
		SeedEvents: filepath.Join(root, "events"), Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return sys, cfg
}

// postUnreadable delivers to the webhook at base a post the processor cannot
// read (its id is not an X id), signed with secret.
func postUnreadable(t *testing.T, base, brandID string, secret []byte) {
	t.Helper()
	body := []byte(`{"for_user_id":"` + brandID + `","tweet_create_events":[{"id_str":"-1","text":"@PajaritoAir hola","created_at":"Tue Aug 18 15:47:03 +0000 2026","user":{"id_str":"900001"}}]}`)
	req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/x", bytes.NewReader(body))
	req.Header.Set(xwebhook.SignatureHeader, xwebhook.Sign(secret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// waitSettled waits until the local system's inbound dead-letter queue holds
// dead messages and nothing waits in the inbound queue. The deadline is
// generous: on a loaded machine a delivery that failed for a moment comes
// back after the queue's visibility timeout.
func waitSettled(t *testing.T, sys *localdev.System, token string, dead int64) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		var l agentapi.DLQList
		getJSON(t, sys.URL+"/v1/dlq", token, &l)
		if len(l.Queues) == 2 && l.Queues[0].Queue == agentapi.QueueInbound && l.Queues[0].Visible == dead && sys.Idle() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dead-letter queues hold %+v, want %d inbound; the inbound queue idle: %t", l.Queues, dead, sys.Idle())
		}
	}
}

// TestRetryAndRedrive: against the local system with its data on disk, a delivery
// the processor cannot read is quarantined and dead-lettered; quarantine retry
// requeues it once (it is quarantined and dead-lettered again: it still cannot
// be read); dlq redrive moves the dead letters back; the journal keeps the result
// across a restart.
func TestRetryAndRedrive(t *testing.T) {
	const token = "redrive-test-token"
	secret := []byte("s")
	dir := t.TempDir()
	sys, cfg := startLocal(t, dir, token, secret)
	defer func() { sys.Close() }()
	api := []string{"--url", sys.URL, "--token", token}

	postUnreadable(t, sys.URL, cfg.Brand.ID, secret)
	waitSettled(t, sys, token, 1)
	var out syncBuffer
	if err := run(t.Context(), append([]string{"quarantine", "list"}, api...), &out, &out); err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`journal-[0-9a-z]+-[0-9]+`).FindString(out.String())
	if id == "" {
		t.Fatalf("no SQS message id in:\n%s", out.String())
	}

	steps := []struct {
		name    string
		args    []string
		want    string // a regexp of the whole output
		settled int64  // inbound dead letters once the processor is done
	}{
		{"retry by id", []string{"quarantine", "retry", "--id", id, "--id", "journal-nope-1"},
			`^requeued 1, already gone or not found 1, not retryable 0, busy 0, failed 0\n$`, 2},
		{"the same again requeues nothing", []string{"quarantine", "retry", "--id", id},
			`^requeued 0, already gone or not found 1, not retryable 0, busy 0, failed 0\n$`, 2},
		{"redrive the inbound dead letters", []string{"dlq", "redrive", "--queue", "inbound"},
			`^inbound: 2 in the dead-letter queue before, [0-2] after; moved 2 back to the inbound queue\n$`, 2},
		{"retry all", []string{"quarantine", "retry", "--all"},
			`^requeued 3, already gone or not found 0, not retryable 0, busy 0, failed 0\n$`, 5},
		{"redrive all", []string{"dlq", "redrive"},
			`^inbound: 5 in the dead-letter queue before, [0-5] after; moved 5 back to the inbound queue\n` +
				`outbound: 0 in the dead-letter queue before, 0 after; moved 0 back to the outbound queue\n$`, 5},
	}
	for _, st := range steps {
		var out syncBuffer
		if err := run(t.Context(), append(st.args, api...), &out, &out); err != nil {
			t.Fatalf("%s: %v\n%s", st.name, err, out.String())
		}
		if !regexp.MustCompile(st.want).MatchString(out.String()) {
			t.Errorf("%s: %q, want %q", st.name, out.String(), st.want)
		}
		waitSettled(t, sys, token, st.settled)
	}
	// Every retry and redrive put a delivery that still cannot be read back on
	// the queue once: the quarantine holds one record per try.
	out = syncBuffer{}
	if err := run(t.Context(), append([]string{"quarantine", "list"}, api...), &out, &out); err != nil || !strings.Contains(out.String(), "\n8 quarantined") {
		t.Errorf("quarantine list: %v\n%s", err, out.String())
	}

	// The journal kept what moved: after a restart, the dead letters are those
	// left, no more.
	if err := sys.Close(); err != nil {
		t.Fatal(err)
	}
	sys, _ = startLocal(t, dir, token, secret)
	var l agentapi.DLQList
	getJSON(t, sys.URL+"/v1/dlq", token, &l)
	if len(l.Queues) != 2 || l.Queues[0].Visible != 5 || l.Queues[1].Visible != 0 || !sys.Idle() {
		t.Errorf("after a restart: %+v, idle %t; want 5 inbound dead letters and nothing queued", l.Queues, sys.Idle())
	}
}

func TestRetryAndRedriveUsage(t *testing.T) {
	t.Setenv("PAJARITO_AGENT_TOKEN", "")
	tests := []struct {
		args []string
		want string // in the error, or the output with flag.ErrHelp
	}{
		{[]string{"quarantine", "retry"}, "--id SQS_MESSAGE_ID (see pajarito quarantine list) or --all"},
		{[]string{"quarantine", "retry", "--all", "--id", "m-1"}, "not both"},
		{[]string{"quarantine", "retry", "m-1"}, "name deliveries with --id"},
		{[]string{"quarantine", "retry", "--all"}, "PAJARITO_AGENT_TOKEN"},
		{[]string{"quarantine", "retry", "-h"}, "quarantined again"},
		{[]string{"quarantine", "nope"}, "use list or retry"},
		{[]string{"dlq"}, "Usage: pajarito dlq redrive"},
		{[]string{"dlq", "purge"}, "use redrive"},
		{[]string{"dlq", "redrive", "--queue", "dead"}, "use inbound, outbound or all"},
		{[]string{"dlq", "redrive", "--token", "t", "--url", "http://127.0.0.1:1"}, "cannot reach the agent API"},
		{[]string{"dlq", "redrive", "--token", "t", "--url", "ftp://x"}, "is not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			err := run(t.Context(), tt.args, &out, &out)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) && !(errors.Is(err, flag.ErrHelp) && strings.Contains(out.String(), tt.want)) {
				t.Errorf("err %v, output %q; want %q", err, out.String(), tt.want)
			}
		})
	}
}
