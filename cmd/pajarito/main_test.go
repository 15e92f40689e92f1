package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
)

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDevAndReplay runs `pajarito dev` as a newcomer would, replays every sample
// event into it with `pajarito replay events/`, and checks the cases they became
// through the agent API. Then it stops the system the way Ctrl-C does.
func TestDevAndReplay(t *testing.T) {
	const token = "test-agent-token"
	t.Setenv("PAJARITO_AGENT_TOKEN", token)
	t.Setenv("X_CONSUMER_SECRET", "")
	t.Chdir("../..") // the repository root, where a newcomer runs it

	base, stdout, stderr, stop := startDev(t, "--addr", "127.0.0.1:0", "--memory")
	for _, want := range []string{"Agent token", token, "dynalite", "goaws", "replay"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("start banner lacks %q:\n%s", want, stdout.String())
		}
	}

	// The listener runs once at start (then every poll interval); let its first run
	// finish so that the posts it finds and the replayed ones meet in the store.
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stderr.String(), `"msg":"listen: run"`); {
		if time.Now().After(deadline) {
			t.Fatalf("the listener did not run:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	var replayOut syncBuffer
	if err := run(t.Context(), []string{"replay", "--url", base + "/webhooks/x", "events/"}, &replayOut, &replayOut); err != nil {
		t.Fatalf("replay: %v\n%s", err, replayOut.String())
	}
	for _, want := range []string{"xaa-mention-es.json", "malformed.json                           400"} {
		if !strings.Contains(replayOut.String(), want) {
			t.Errorf("replay output lacks %q:\n%s", want, replayOut.String())
		}
	}

	// Expected, from events/README.md: public cases for the quote (dan_okafor), the
	// lost bag (jamiek_travels), the cancelled flight (oliverbennett) and María's
	// conversation (her reply + the brand's reply; her first post was deleted before
	// it arrived, so it is never stored); DM cases for jamiek_travels and María.
	// Every customer summoned the brand, so the protocol acknowledged each case and
	// the reply sender posted the acknowledgements to the fake X API: the brand has
	// answered, so each case is pending the customer.
	want := map[string]string{
		"pending/public/dan_okafor":     "",
		"pending/public/jamiek_travels": "",
		"pending/public/oliverbennett":  "",
		"pending/public/mariagv_viajes": "",
		"pending/dm/jamiek_travels":     "",
		"pending/dm/mariagv_viajes":     "",
	}
	var got []string
	for deadline := time.Now().Add(30 * time.Second); ; {
		got = got[:0]
		for _, status := range []string{"open", "pending", "resolved"} {
			var list agentapi.CaseList
			getJSON(t, base+"/v1/cases?status="+status, token, &list)
			for _, c := range list.Cases {
				got = append(got, string(c.Status)+"/"+string(c.Channel)+"/"+c.CustomerHandle)
			}
		}
		sort.Strings(got)
		if sameSet(got, want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, g := range got {
		if _, ok := want[g]; !ok {
			t.Errorf("unexpected case %s", g)
		}
		delete(want, g)
	}
	for w := range want {
		t.Errorf("missing case %s (got %v)", w, got)
	}

	// Each case shows the brand's answer: an outbound message on the case's
	// channel, sent by the reply sender after the protocol decided it, and the
	// first-response time.
	var pending agentapi.CaseList
	getJSON(t, base+"/v1/cases?status=pending", token, &pending)
	for _, c := range pending.Cases {
		var detail agentapi.CaseDetail
		getJSON(t, base+"/v1/cases/"+c.ID, token, &detail)
		var in, out int
		for _, m := range detail.Messages {
			if m.Direction == care.Outbound {
				out++
				if m.Channel != c.Channel || m.AuthorID != "1590000000000000001" || m.Source != care.SourceReply && m.Source != care.SourceXAA && m.Source != care.SourceAAA {
					t.Errorf("case %s (%s): outbound message %+v", c.ID, c.Channel, m)
				}
			} else {
				in++
			}
		}
		if out == 0 || detail.Case.FirstResponseAt == nil || detail.Case.MessagesOut != out {
			t.Errorf("case %s of %s: %d outbound messages (messages_out %d), first response %v; want the brand's answer",
				c.ID, c.CustomerHandle, out, detail.Case.MessagesOut, detail.Case.FirstResponseAt)
		}
		// The lost-bag post reached the system twice, by the listener's mentions
		// poll (the fake X API is seeded with the samples) and by the replayed
		// webhook: it is one message in one case.
		if c.CustomerHandle == "jamiek_travels" && c.Channel == care.Public && (in != 1 || detail.Case.MessagesIn != 1) {
			t.Errorf("lost-bag case %s has %d inbound messages (messages_in %d), want exactly 1", c.ID, in, detail.Case.MessagesIn)
		}
	}
	// An agent at work: the queue, a case, a claim, a signed reply that X receives
	// once, publicly and by DM.
	agentReplies(t, base, token, pending.Cases)

	if !strings.Contains(stderr.String(), `"source":"mentions"`) {
		t.Errorf("the listener read no mentions from the fake X API:\n%s", stderr.String())
	}

	// Without the token the API refuses.
	resp, err := http.Get(base + "/v1/cases")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /v1/cases without a token: %d, want 401", resp.StatusCode)
	}

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "Stopped.") {
		t.Errorf("dev did not say it stopped:\n%s", stdout.String())
	}
}

// agentReplies has the local agent claim the cancelled-flight case and reply
// publicly, and answer the lost-bag DM case by DM; each reply must come back in
// its case as the brand's outbound message, with the X id the fake X API gave it,
// signed with the agent's name.
// startDev runs `pajarito dev` with args until the test ends, and returns its
// base URL once its banner is whole, with its output so far and to come. stop stops it as
// Ctrl-C does and returns how that went.
func startDev(t *testing.T, args ...string) (base string, stdout, stderr *syncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	stdout, stderr = new(syncBuffer), new(syncBuffer)
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"dev"}, args...), stdout, stderr) }()
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					stopErr = fmt.Errorf("dev stopped with %w", err)
				}
			case <-time.After(30 * time.Second):
				stopErr = errors.New("dev did not stop within 30s of Ctrl-C")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	urlRE := regexp.MustCompile(`X webhook\s+(http://[0-9.:]+)/webhooks/x`)
	for deadline := time.Now().Add(60 * time.Second); base == ""; {
		select {
		case err := <-done:
			done <- err // for stop
			t.Fatalf("dev exited: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		// The banner is written at once; its last line says it is whole.
		if out := stdout.String(); strings.Contains(out, bannerEnd) {
			m := urlRE.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("dev's banner names no webhook URL:\n%s", out)
			}
			base = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev did not print its URL:\n%s\n%s", stdout.String(), stderr.String())
		}
	}
	return base, stdout, stderr, stop
}

func agentReplies(t *testing.T, base, token string, cases []agentapi.QueueCase) {
	t.Helper()
	find := func(handle string, ch care.Channel) agentapi.QueueCase {
		for _, c := range cases {
			if c.CustomerHandle == handle && c.Channel == ch {
				return c
			}
		}
		t.Fatalf("no %s case of %s in %+v", ch, handle, cases)
		return agentapi.QueueCase{}
	}
	for _, tc := range []struct {
		c     agentapi.QueueCase
		draft string
		text  string
	}{
		{find("oliverbennett", care.Public), "d-oliver-1", "We're sorry, Oliver. You're rebooked on tomorrow's 9:00 flight; the details are in your email."},
		{find("jamiek_travels", care.DM), "d-jamie-1", "We're sorry, Jamie. Your bag is in Madrid and will be delivered to your hotel tonight."},
	} {
		if code, body := postJSON(t, base+"/v1/cases/"+tc.c.ID+"/claim", token, `{}`); code != http.StatusOK {
			t.Fatalf("claim %s: %d %s", tc.c.ID, code, body)
		}
		var before agentapi.CaseDetail
		getJSON(t, base+"/v1/cases/"+tc.c.ID, token, &before)
		code, body := postJSON(t, base+"/v1/cases/"+tc.c.ID+"/replies", token, fmt.Sprintf(`{"draft_id":%q,"text":%q}`, tc.draft, tc.text))
		if code != http.StatusAccepted {
			t.Fatalf("reply on %s: %d %s", tc.c.ID, code, body)
		}
		var res agentapi.ReplyResult
		if err := json.Unmarshal([]byte(body), &res); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(res.Reply.Text, tc.text) || !strings.HasSuffix(res.Reply.Text, "^Local") || res.Reply.Channel != tc.c.Channel {
			t.Errorf("queued reply %+v; want %q signed ^Local on %s", res.Reply, tc.text, tc.c.Channel)
		}
		// The same draft again: the same reply, nothing new queued.
		if code, body := postJSON(t, base+"/v1/cases/"+tc.c.ID+"/replies", token, fmt.Sprintf(`{"draft_id":%q,"text":%q}`, tc.draft, tc.text)); code != http.StatusAccepted || !strings.Contains(body, `"duplicate":true`) {
			t.Errorf("the same draft again: %d %s", code, body)
		}
		var sent *care.StoredMessage
		for deadline := time.Now().Add(20 * time.Second); sent == nil; time.Sleep(100 * time.Millisecond) {
			var d agentapi.CaseDetail
			getJSON(t, base+"/v1/cases/"+tc.c.ID, token, &d)
			var out []care.StoredMessage
			for _, m := range d.Messages {
				if m.Direction == care.Outbound && m.Text == res.Reply.Text {
					out = append(out, m)
				}
			}
			switch {
			case len(out) > 1:
				t.Fatalf("case %s shows the agent's reply %d times", tc.c.ID, len(out))
			case len(out) == 1:
				sent = &out[0]
				if d.Case.MessagesOut != before.Case.MessagesOut+1 || d.Case.FirstResponseAt == nil {
					t.Errorf("case %s after the reply: messages_out %d (was %d), first response %v", tc.c.ID, d.Case.MessagesOut, before.Case.MessagesOut, d.Case.FirstResponseAt)
				}
			case time.Now().After(deadline):
				t.Fatalf("the agent's reply never reached case %s: %+v", tc.c.ID, d.Messages)
			}
		}
		if sent.Channel != tc.c.Channel || !care.IsID(sent.ID) {
			t.Errorf("reply stored as %+v; want a %s message with X's id", sent, tc.c.Channel)
		}
	}
}

// postJSON posts body and returns the status and the response body.
func postJSON(t *testing.T, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr bool
		want    string
	}{
		{args: nil, wantErr: true, want: "Usage:"},
		{args: []string{"help"}, want: "pajarito dev"},
		{args: []string{"nope"}, wantErr: true, want: "Usage:"},
		{args: []string{"replay"}, wantErr: true, want: "replay [flags]"},
		{args: []string{"replay", "no/such/file.json"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			err := run(t.Context(), tt.args, &out, &out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out.String())
			}
		})
	}
}

func TestReplayReportsWrongSecret(t *testing.T) {
	ts := newStatusServer(t, http.StatusUnauthorized)
	var out bytes.Buffer
	err := run(t.Context(), []string{"replay", "--url", ts, "../../events/xaa-mention-en.json"}, &out, &out)
	if err == nil || !strings.Contains(out.String(), "does not match") {
		t.Fatalf("err = %v, output:\n%s", err, out.String())
	}
}

func newStatusServer(t *testing.T, status int) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, http.StatusText(status), status)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func sameSet(got []string, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, g := range got {
		if _, ok := want[g]; !ok {
			return false
		}
	}
	return true
}
