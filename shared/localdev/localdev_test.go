package localdev

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/replay"
	"github.com/pajarito-care/pajarito/shared/wire"
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
	root, err := filepath.Abs("../..")
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

	health := func() wire.Health {
		resp, err := http.Get(sys.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var h wire.Health
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
	events, err := replay.Events(posts, replay.Brand{ID: cfg.Brand.ID, Handle: cfg.Brand.Handle}, h2.Time)
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
