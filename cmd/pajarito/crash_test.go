package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/local/localdev"
	"github.com/pajarito-care/pajarito/shared/replay"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// buildPajarito builds the command into a temporary folder and returns its
// path.
func buildPajarito(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pajarito")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// devProcess is `pajarito dev` running as its own process, as an operator runs
// it: the test can kill it.
type devProcess struct {
	cmd      *exec.Cmd
	base     string // http://127.0.0.1:port
	sqs      string // its SQS endpoint
	out, err syncBuffer
	done     chan struct{}
}

// startDevProcess runs bin dev with args in the repository root and returns
// once its banner is whole.
func startDevProcess(t *testing.T, bin string, args ...string) *devProcess {
	t.Helper()
	p := &devProcess{done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"dev", "--addr", "127.0.0.1:0"}, args...)...)
	p.cmd.Dir = "../.."
	env := []string{"PAJARITO_AGENT_TOKEN=crash-test-token"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "X_") && !strings.HasPrefix(kv, "PAJARITO_") {
			env = append(env, kv)
		}
	}
	p.cmd.Env = env
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = &p.err
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	banner := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		var b strings.Builder
		for sc.Scan() {
			p.out.Write([]byte(sc.Text() + "\n"))
			b.WriteString(sc.Text() + "\n")
			if sc.Text() == bannerEnd {
				banner <- b.String()
			}
		}
	}()
	select {
	case text := <-banner:
		if m := regexp.MustCompile(`X webhook\s+(http://[0-9.:]+)/webhooks/x`).FindStringSubmatch(text); m != nil {
			p.base = m[1]
		}
		if m := regexp.MustCompile(`SQS\s+(http://[0-9.:]+)`).FindStringSubmatch(text); m != nil {
			p.sqs = m[1]
		}
	case <-p.done:
		t.Fatalf("dev exited before its banner:\n%s\n%s", p.stdout(), p.stderr())
	case <-time.After(60 * time.Second):
		t.Fatalf("no banner from dev in 60 s:\n%s\n%s", p.stdout(), p.stderr())
	}
	return p
}

func (p *devProcess) stdout() string { return p.out.String() }
func (p *devProcess) stderr() string { return p.err.String() }

// kill kills the process with SIGKILL, as a power cut or the OOM killer would.
func (p *devProcess) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

// deliver posts a signed webhook body and returns the status.
func (p *devProcess) deliver(t *testing.T, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.base+"/webhooks/x", bytes.NewReader(body))
	req.Header.Set(xwebhook.SignatureHeader, xwebhook.Sign([]byte(devSecret), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("deliver: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// settle waits until the system has nothing left to do: its inbound and
// outbound queues empty (nothing visible, nothing in flight).
func (p *devProcess) settle(t *testing.T) {
	t.Helper()
	c := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.sqs), Credentials: credentials.NewStaticCredentialsProvider("x", "x", "")})
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		busy, counts := 0, ""
		for _, q := range []string{localdev.InboundQueue, localdev.OutboundQueue} {
			url, err := c.GetQueueUrl(t.Context(), &sqs.GetQueueUrlInput{QueueName: aws.String(q)})
			if err != nil {
				t.Fatal(err)
			}
			a, err := c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: url.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
			if err != nil {
				t.Fatal(err)
			}
			// goaws counts the messages in flight among the visible ones.
			if a.Attributes["ApproximateNumberOfMessages"] != "0" {
				busy++
			}
			counts += fmt.Sprintf(" %s %v", q, a.Attributes)
		}
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the system did not settle in 3 minutes:%s\nits replies:\n%s", counts, grepLines(p.stderr(), "reply", "send", "defer", "budget", "survey"))
		}
	}
}

// snapshot describes every case: customer, channel, and how many messages came
// in and went out. (Which automatic reply a case gets may differ between runs:
// it answers the case's latest message when the processor decides, and what a
// batch holds depends on when messages arrive, in AWS as here.) It fails the
// test when a case shows the same reply twice.
func (p *devProcess) snapshot(t *testing.T) []string {
	t.Helper()
	var out []string
	// A case whose status changes between two of these listings (a reply sent,
	// a customer writing again) shows in both: each case is described once.
	listed := map[string]bool{}
	for _, status := range []string{"open", "pending", "resolved"} {
		var list agentapi.CaseList
		getJSON(t, p.base+"/v1/cases?limit=200&status="+status, "crash-test-token", &list)
		for _, c := range list.Cases {
			if listed[c.ID] {
				continue
			}
			listed[c.ID] = true
			var d agentapi.CaseDetail
			getJSON(t, p.base+"/v1/cases/"+c.ID, "crash-test-token", &d)
			seen := map[string]bool{}
			for _, m := range d.Messages {
				if m.Direction == care.Outbound && m.Source == care.SourceReply {
					if seen[m.Text] {
						t.Errorf("case %s shows the reply %q twice", c.ID, m.Text)
					}
					seen[m.Text] = true
				}
			}
			line := fmt.Sprintf("%s/%s in=%d out=%d", d.Case.CustomerID, d.Case.Channel, d.Case.MessagesIn, d.Case.MessagesOut)
			for _, m := range d.Messages {
				switch m.Source {
				case care.SourceReply:
					// Replies get a new X id in each run.
					line += fmt.Sprintf("\n\t\t%s %s", m.Direction, m.Source)
					continue
				case care.SourceMentions, care.SourceSearch:
					// The samples get a new date (and id) on each new data
					// folder, and which of the listener's sources reads a post
					// first (the mentions timeline or a keyword search) depends
					// on when each runs.
					line += fmt.Sprintf("\n\t\t%s listener", m.Direction)
					continue
				}
				text := []rune(m.Text)
				line += fmt.Sprintf("\n\t\t%s %s %s %q", m.Direction, m.ID, m.Source, string(text[:min(len(text), 40)]))
			}
			out = append(out, line)
		}
	}
	slices.Sort(out)
	return out
}

// TestDevSurvivesSIGKILL: the recorded day's morning delivered to a local system
// with a data folder, killed with SIGKILL right after it answered a random
// number of deliveries 200, then restarted on the same data for the rest, ends
// with exactly the cases, messages and replies of a run that was never killed:
// what was answered 200 is kept, nothing twice.
func TestDevSurvivesSIGKILL(t *testing.T) {
	bin := buildPajarito(t)
	cfg, err := config.Load("../../pajarito.json", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../../events/conversations/pajarito-air-day.csv")
	if err != nil {
		t.Fatal(err)
	}
	posts, err := replay.ReadCSV(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// At once, all of it in the past, as replay does without --speed.
	events, err := replay.Events(posts, cfg.Brand, time.Now().Add(-replay.Span(posts)-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// The morning of the recorded day: its automatic replies stay within X's
	// 100 posts per 15 minutes, which the fake X API enforces and forgets when
	// it restarts (X would not), so that both runs send the same replies.
	const n = 110
	if len(events) < n {
		t.Fatalf("the recorded day has %d posts, want %d", len(events), n)
	}
	events = events[:n]

	clean := startDevProcess(t, bin, "--memory")
	for _, e := range events {
		if code := clean.deliver(t, e.Body); code != http.StatusOK {
			t.Fatalf("clean run: delivery answered %d", code)
		}
	}
	clean.settle(t)
	want := clean.snapshot(t)
	clean.kill()

	// Trials: each kills the system at a random point of the stream (seeded, and
	// reported), on a data folder of its own, then restarts it there and sends
	// the rest.
	trials, reach, seed := crashTrials(t, n)
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("%d trials, kills within the first %d deliveries, seed %d (PAJARITO_CRASH_SEED=%d to repeat them)", trials, reach, seed, seed)
	recovered := 0
	for trial := range trials {
		cut := 1 + rng.IntN(reach-1)
		data := t.TempDir()
		crashed := startDevProcess(t, bin, "--data", data)
		for _, e := range events[:cut] {
			if code := crashed.deliver(t, e.Body); code != http.StatusOK {
				t.Fatalf("trial %d, before the kill: delivery answered %d", trial, code)
			}
		}
		crashed.kill()
		restarted := startDevProcess(t, bin, "--data", data)
		for _, e := range events[cut:] {
			if code := restarted.deliver(t, e.Body); code != http.StatusOK {
				t.Fatalf("trial %d, after the restart: delivery answered %d", trial, code)
			}
		}
		restarted.settle(t)
		got := restarted.snapshot(t)
		if !slices.Equal(got, want) {
			t.Errorf("trial %d (SIGKILL after %d of %d deliveries): %d cases, the clean run %d; they differ:\n%s", trial, cut, n, len(got), len(want), diffLines(want, got))
			if id := regexp.MustCompile(`in (\d+) xaa`).FindStringSubmatch(diffLines(want, got)); id != nil {
				t.Logf("what the killed run and the restarted one logged of post %s:\n%s\n--\n%s", id[1], grepLines(crashed.stderr(), id[1]), grepLines(restarted.stderr(), id[1]))
			}
		}
		rec := ""
		for _, line := range strings.Split(restarted.stderr(), "\n") {
			if strings.Contains(line, "localdev: recovered") {
				rec = line
				recovered++
			}
		}
		restarted.kill()
		t.Logf("trial %d: SIGKILL after %d of %d deliveries; %d cases as in the clean run; %s", trial, cut, n, len(got), rec)
	}
	t.Logf("%d trials, %d deliveries each, %d with messages recovered after the kill; seed %d", trials, n, recovered, seed)
}

// crashTrials returns how many SIGKILL trials to run, within how many of the n
// deliveries they kill, and the seed of their kill points (PAJARITO_CRASH_SEED,
// default the clock). By default (make test): one trial, killed within the first
// third of the stream, before replies are being sent. PAJARITO_CRASH_TRIALS (make
// crash: 20) runs that many, killed anywhere, while a reply is being sent
// included: the restarted system settles a reply its killed run left "sending"
// at once (sender.Sender.Epoch), by looking for it on the fake X (Finder):
// recorded sent if X holds it, sent again if not, so that it goes out once.
func crashTrials(t *testing.T, n int) (trials, reach int, seed uint64) {
	trials, reach, seed = 1, n/3, uint64(time.Now().UnixNano())
	if v := os.Getenv("PAJARITO_CRASH_TRIALS"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k < 1 {
			t.Fatalf("PAJARITO_CRASH_TRIALS=%q: want a whole number of trials, at least 1", v)
		}
		trials, reach = k, n
	}
	if v := os.Getenv("PAJARITO_CRASH_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("PAJARITO_CRASH_SEED=%q: want a whole number", v)
		}
		seed = s
	}
	return trials, reach, seed
}

// diffLines lists the lines only in want (-) and only in got (+), counting
// repeats: a line twice in got and once in want is one "+".
func diffLines(want, got []string) string {
	count := map[string]int{}
	for _, w := range want {
		count[w]++
	}
	for _, g := range got {
		count[g]--
	}
	var b strings.Builder
	for line, n := range count {
		for ; n > 0; n-- {
			b.WriteString("- " + line + "\n")
		}
		for ; n < 0; n++ {
			b.WriteString("+ " + line + "\n")
		}
	}
	return b.String()
}

// grepLines returns the last 40 lines of s that hold one of words.
func grepLines(s string, words ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {

		for _, w := range words {
			if strings.Contains(l, w) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out[max(0, len(out)-40):], "\n")
}
