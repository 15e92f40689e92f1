package localdev

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/config"
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

// TestListenerOnFakeX: with no X credentials the system reads the fake X API seeded
// from events/; the first run finds the samples, and later runs, every poll
// interval, find nothing new — the checkpoints hold and nothing is paid twice.
func TestListenerOnFakeX(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(root, config.FileName), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
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
