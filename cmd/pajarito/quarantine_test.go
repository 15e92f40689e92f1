package main

import (
	"strings"
	"testing"
	"time"
)

// TestQuarantineList: a delivery the processor cannot read shows up in
// `pajarito quarantine list`, with why.
func TestQuarantineList(t *testing.T) {
	const token = "quarantine-test-token"
	secret := []byte("s")
	sys, cfg := startLocal(t, "", token, secret)
	defer sys.Close()

	var out syncBuffer
	if err := run(t.Context(), []string{"quarantine", "list", "--url", sys.URL, "--token", token}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "No quarantined delivery") {
		t.Errorf("an empty quarantine lists:\n%s", out.String())
	}
	postUnreadable(t, sys.URL, cfg.Brand.ID, secret)
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
