package localdev

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/replay"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(l.b.String(), "\n")
}

// repoConfig returns the repository's root and its pajarito.json.
func repoConfig(t *testing.T) (string, *config.Config) {
	t.Helper()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(root, config.FileName), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return root, cfg
}

// TestListenerOnFakeX: with no X credentials the system reads the fake X API seeded
// from events/; the first run finds the samples, and later runs, every poll
// interval, find nothing new — the checkpoints hold and nothing is paid twice.
func TestListenerOnFakeX(t *testing.T) {
	root, cfg := repoConfig(t)
	var logs lockedBuffer
	sys, err := Start(t.Context(), Options{
		Addr: "127.0.0.1:0", Config: cfg, Secret: []byte("s"), AgentToken: "t", Root: root,
		SeedEvents: filepath.Join(root, "events"), PollInterval: 100 * time.Millisecond,
		Log: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()

	type run struct {
		Read     int `json:"read"`
		Enqueued int `json:"enqueued"`
		Failed   int `json:"failed"`
	}
	var runs []run
	for deadline := time.Now().Add(30 * time.Second); len(runs) < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("%d listener runs in 30s, want 3:\n%s", len(runs), strings.Join(logs.lines(), "\n"))
		}
		time.Sleep(50 * time.Millisecond)
		runs = runs[:0]
		for _, l := range logs.lines() {
			if strings.Contains(l, `"msg":"listen: run"`) {
				var r run
				if err := json.Unmarshal([]byte(l), &r); err != nil {
					t.Fatal(err)
				}
				runs = append(runs, r)
			}
		}
	}
	if runs[0].Enqueued == 0 || runs[0].Failed != 0 {
		t.Errorf("first run = %+v, want the seeded samples found", runs[0])
	}
	for i, r := range runs[1:] {
		if r.Read != 0 || r.Failed != 0 {
			t.Errorf("run %d = %+v, want nothing new read", i+2, r)
		}
	}
	if sys.XFake == nil || !strings.HasPrefix(sys.XAPI, "http://127.0.0.1:") {
		t.Errorf("X API = %q, want the local fake", sys.XAPI)
	}
}

// TestFastClockAndWebhookPosts: with Speed the system's clock, as /healthz
// reports it, runs that many times faster than the wall; and the fake X API
// holds the posts that reach the webhook signed (so that replies to them can be
// posted), not those of unsigned deliveries.
func TestFastClockAndWebhookPosts(t *testing.T) {
	root, cfg := repoConfig(t)
	secret := []byte("s")
	sys, err := Start(t.Context(), Options{
		Addr: "127.0.0.1:0", Config: cfg, Secret: secret, AgentToken: "t", Root: root,
		SeedEvents: filepath.Join(root, "events"), Speed: 600,
		Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()

	health := func() boot.Health {
		resp, err := http.Get(sys.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var h boot.Health
		if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	// The server reads its clock within each request, so between its two
	// readings passed at least the sleep and at most the wall time from the
	// first request's start to the second's end.
	wall1 := time.Now()
	h1 := health()
	time.Sleep(200 * time.Millisecond)
	h2 := health()
	moved, wall := h2.Time.Sub(h1.Time), time.Since(wall1)
	if h2.ClockSpeed != 600 || moved < 600*200*time.Millisecond || moved > 600*wall+time.Second {
		t.Errorf("the clock moved %s in %s of wall time at speed %g, want 600 times as much", moved, wall, h2.ClockSpeed)
	}

	posts, err := replay.ReadCSV(strings.NewReader("tweet_id,author_id,inbound,created_at,text,in_response_to_tweet_id\n" +
		"1,900001,True,2026-08-19T10:00:00Z,@PajaritoAir hola,\n2,900002,True,2026-08-19T10:01:00Z,@PajaritoAir hello,\n"))
	if err != nil {
		t.Fatal(err)
	}
	events, err := replay.Events(posts, cfg.Brand, h2.Time)
	if err != nil {
		t.Fatal(err)
	}
	deliver := func(body []byte, signature string) {
		req, err := http.NewRequest(http.MethodPost, sys.URL+"/webhooks/x", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(xwebhook.SignatureHeader, signature)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	deliver(events[0].Body, xwebhook.Sign(secret, events[0].Body))
	deliver(events[1].Body, xwebhook.Sign([]byte("not the secret"), events[1].Body))
	if p, ok := sys.XFake.Post(events[0].PostID); !ok || p.Text != "@PajaritoAir hola" || !p.CreatedAt.Equal(events[0].At) {
		t.Errorf("the fake holds %+v %v for the signed delivery, want its post", p, ok)
	}
	if _, ok := sys.XFake.Post(events[1].PostID); ok {
		t.Error("the fake holds the post of a delivery with a bad signature")
	}
}

func TestSpeedNeedsFakeX(t *testing.T) {
	root, cfg := repoConfig(t)
	_, err := Start(t.Context(), Options{
		Addr: "127.0.0.1:0", Config: cfg, Secret: []byte("s"), AgentToken: "t", Root: root,
		XBaseURL: "http://127.0.0.1:1", Speed: 60, Log: slog.New(slog.DiscardHandler),
	})
	if err == nil || !strings.Contains(err.Error(), "needs the fake X API") || !strings.Contains(err.Error(), "X_API_BASE_URL") {
		t.Errorf("err = %v, want one naming the fake X API and X_API_BASE_URL", err)
	}
}

// TestLiveDatedDelivery: a post delivered with today's date (X itself, a team's
// own test client) makes a case whose times agree with the local clock: created
// when it arrived, waiting since the post, answered after it, due after it, and
// counted in today's metrics with the first-response time its case shows.
// The webhook secret and the agent token of startQuiet's system.
const (
	quietSecret = "s"
	quietToken  = "t"
)

// startQuiet starts the local system on cfg with the fake X seeded with the
// brand's own post only (no sample case), and stops it when the test ends.
func startQuiet(t *testing.T, root string, cfg *config.Config) *System {
	t.Helper()
	seeds := t.TempDir()
	b, err := os.ReadFile(filepath.Join(root, "events", "aaa-own-post.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(seeds, "aaa-own-post.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	sys, err := Start(t.Context(), Options{
		Addr: "127.0.0.1:0", Config: cfg, Secret: []byte(quietSecret), AgentToken: quietToken, Root: root,
		SeedEvents: seeds, Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sys.Close() })
	return sys
}

// deliver posts body, signed, to the system's webhook, which must take it.
func deliver(t *testing.T, sys *System, body []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, sys.URL+"/webhooks/x", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(xwebhook.SignatureHeader, xwebhook.Sign([]byte(quietSecret), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %d", resp.StatusCode)
	}
}

func TestLiveDatedDelivery(t *testing.T) {
	root, cfg := repoConfig(t)
	cfg.MonitorInterval = protocol.DurationOf(time.Second) // the roll-up of today, soon
	// Open at every hour: the first response's due time is then the target
	// after the post, whenever the test runs (out of hours it would be the
	// next opening, as the protocol says).
	for day := range cfg.Protocol.BusinessHours {
		cfg.Protocol.BusinessHours[day] = "00:00-24:00"
	}
	cfg.Protocol.Holidays = nil
	sys := startQuiet(t, root, cfg)

	posted := time.Now().UTC().Truncate(time.Second)
	posts, err := replay.ReadCSV(strings.NewReader("tweet_id,author_id,inbound,created_at,text,in_response_to_tweet_id\n" +
		"1,900001,True," + posted.Format(time.RFC3339) + ",@PajaritoAir ¿a qué hora abre el mostrador de facturación en Barajas?,\n"))
	if err != nil {
		t.Fatal(err)
	}
	events, err := replay.Events(posts, cfg.Brand, posted)
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, sys, events[0].Body)

	get := func(path string, v any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, sys.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+quietToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	// The protocol acknowledges the question; wait for the answer to reach X.
	var c *care.Case
	for deadline := time.Now().Add(30 * time.Second); c == nil || c.FirstResponseAt == nil; {
		if time.Now().After(deadline) {
			t.Fatalf("no answered case for the live post: %+v", c)
		}
		time.Sleep(50 * time.Millisecond)
		for _, status := range []string{"open", "pending"} {
			var list agentapi.CaseList
			get("/v1/cases?status="+status, &list)
			for _, s := range list.Cases {
				var d agentapi.CaseDetail
				get("/v1/cases/"+s.ID, &d)
				c = d.Case
			}
		}
	}
	arrived := time.Now()
	if !c.FirstInboundAt.Equal(posted) {
		t.Errorf("first inbound at %s, want the post's date %s", c.FirstInboundAt, posted)
	}
	if c.CreatedAt.Before(posted) || c.CreatedAt.After(arrived) {
		t.Errorf("case created at %s, want when the post arrived, between %s and %s", c.CreatedAt, posted, arrived)
	}
	if !c.WaitingSince.IsZero() && c.WaitingSince.Before(posted) {
		t.Errorf("waiting since %s, before the post (%s)", c.WaitingSince, posted)
	}
	frt := c.FirstResponseAt.Sub(c.FirstInboundAt)
	if frt < 0 || c.FirstResponseAt.After(arrived) {
		t.Errorf("first response at %s (%s after the post), want after the post %s and by %s", c.FirstResponseAt, frt, posted, arrived)
	}
	eng, err := protocol.New(cfg.Protocol)
	if err != nil {
		t.Fatal(err)
	}
	if due := eng.FirstResponseDue(*c); !due.After(posted) || due.After(posted.Add(eng.FirstResponseWithin(c.Priority)+time.Second)) {
		t.Errorf("first response due %s, want within %s of the post (%s)", due, eng.FirstResponseWithin(c.Priority), posted)
	}
	if c.EscalatedAt != nil {
		t.Errorf("an answered case of a minute ago was escalated at %s", c.EscalatedAt)
	}

	// Today's metrics, in the brand's days, count it with that first response.
	loc, err := time.LoadLocation(cfg.Protocol.Timezone)
	if err != nil {
		t.Fatal(err)
	}
	today := posted.In(loc).Format(time.DateOnly)
	var m agentapi.MetricsReport
	for deadline := time.Now().Add(30 * time.Second); m.Total.FirstResponse.Count != 1; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			b, _ := json.Marshal(m)
			t.Fatalf("today's metrics never counted the answered case: %s", b)
		}
		get("/v1/metrics?from="+today+"&to="+today, &m)
	}
	if m.Total.Cases != 1 || m.Total.FirstResponse.Mean == nil || math.Abs(*m.Total.FirstResponse.Mean-frt.Seconds()) > 1 || m.Total.Unanswered != 0 {
		b, _ := json.Marshal(m.Total)
		t.Errorf("today's metrics: %s; want 1 case answered in %s", b, frt)
	}
}

// TestBadIDsNeverCrash: deliveries whose post ids are not X ids ("-1", 36
// digits) or that X could not have made (above 64 bits) are answered and get the
// webhook's own treatment; the system goes on.
func TestBadIDsNeverCrash(t *testing.T) {
	root, cfg := repoConfig(t)
	secret := []byte("s")
	seeds := t.TempDir()
	b, err := os.ReadFile(filepath.Join(root, "events", "aaa-own-post.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(seeds, "aaa-own-post.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	sys, err := Start(t.Context(), Options{
		Addr: "127.0.0.1:0", Config: cfg, Secret: secret, AgentToken: "t", Root: root,
		SeedEvents: seeds, Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	posts, err := replay.ReadCSV(strings.NewReader("tweet_id,author_id,inbound,created_at,text,in_response_to_tweet_id\n" +
		"1,900001,True,2026-12-01T10:00:00Z,@PajaritoAir hola,\n"))
	if err != nil {
		t.Fatal(err)
	}
	events, err := replay.Events(posts, cfg.Brand, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"-1", strings.Repeat("9", 36), "18446744073709551616"} {
		body := []byte(strings.ReplaceAll(string(events[0].Body), events[0].PostID, id))
		req, _ := http.NewRequest(http.MethodPost, sys.URL+"/webhooks/x", bytes.NewReader(body))
		req.Header.Set(xwebhook.SignatureHeader, xwebhook.Sign(secret, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("post id %s: %v (the system died?)", id, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("post id %s: %d, want 200 (kept, judged by the webhook)", id, resp.StatusCode)
		}
	}
	// None is an X id (2^64 is one past the largest): all three are quarantined,
	// and the system still answers.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		q, err := sys.Store.ListQuarantine(t.Context(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(q) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries quarantined, want the 3 whose ids are not X ids", len(q))
		}
	}
	if resp, err := http.Get(sys.URL + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("healthz after the bad ids: %v %v", resp, err)
	}
}
