package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/localdev"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// TestQuarantineList: a delivery the processor cannot read shows up in
// `pajarito quarantine list`, with why.
func TestQuarantineList(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(root, "pajarito.json"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	const token = "quarantine-test-token"
	secret := []byte("s")
	sys, err := localdev.Start(t.Context(), localdev.Options{
		Addr: "127.0.0.1:0", Config: cfg, Secret: secret, AgentToken: token, Root: root,
		SeedEvents: filepath.Join(root, "events"), Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()

	var out syncBuffer
	if err := run(t.Context(), []string{"quarantine", "list", "--url", sys.URL, "--token", token}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "No quarantined delivery") {
		t.Errorf("an empty quarantine lists:\n%s", out.String())
	}
	body := []byte(`{"for_user_id":"` + cfg.Brand.ID + `","tweet_create_events":[{"id_str":"-1","text":"@PajaritoAir hola","created_at":"Tue Aug 18 15:47:03 +0000 2026","user":{"id_str":"900001"}}]}`)
	req, _ := http.NewRequest(http.MethodPost, sys.URL+"/webhooks/x", bytes.NewReader(body))
	req.Header.Set(xwebhook.SignatureHeader, xwebhook.Sign(secret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out = syncBuffer{}
		if err := run(t.Context(), []string{"quarantine", "list", "--url", sys.URL, "--token", token}, &out, &out); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "1 quarantined") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bad delivery never showed:\n%s", out.String())
		}
	}
	t.Log("\n" + out.String())
	if !strings.Contains(out.String(), "PROBLEM") || !strings.Contains(out.String(), "-1") {
		t.Errorf("the list does not say what and why:\n%s", out.String())
	}
	// Without a token, the error says how to get one.
	t.Setenv("PAJARITO_AGENT_TOKEN", "")
	if err := run(t.Context(), []string{"quarantine", "list", "--url", sys.URL}, &out, &out); err == nil || !strings.Contains(err.Error(), "PAJARITO_AGENT_TOKEN") {
		t.Errorf("without a token: %v", err)
	}
}
