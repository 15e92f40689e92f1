// Package chatsdk runs X's own Chat SDK (@xdevplatform/chat-xdk, its raw WASM
// Chat class, offline under Node.js) for the tests that prove Pajarito's X Chat
// code against it: shared/xchat/testdata/interop.mjs answers one JSON request
// per run. The SDK is the version the repository's package.json pins, installed
// by npm ci. Only tests import this package.
package chatsdk

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Version is the version of @xdevplatform/chat-xdk the repository pins.
const Version = "0.4.3"

// Run sends req to interop.mjs on the pinned SDK and decodes its reply into
// resp. It fails the test (it never skips) when Node.js or the SDK is missing:
// the interop proof must run wherever the tests do.
func Run(t testing.TB, req, resp any) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: this test runs X's Chat SDK (apt-get install nodejs, then npm ci)")
	}
	root := moduleRoot(t)
	dir := filepath.Join(root, "node_modules", "@xdevplatform", "chat-xdk")
	var pkg struct{ Version string }
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		t.Fatalf("the X Chat SDK is not installed (run npm ci at the repository root): %v", err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil || pkg.Version != Version {
		t.Fatalf("%s holds SDK version %q, want %s", dir, pkg.Version, Version)
	}
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(root, "shared", "xchat", "testdata", "interop.mjs"), dir)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node interop.mjs: %v\n%s", err, stderr.Bytes())
	}
	if err := json.Unmarshal(out, resp); err != nil {
		t.Fatalf("SDK reply %s: %v", out, err)
	}
}

// moduleRoot walks up from the working directory to the one holding go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("chatsdk: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Event is an X Chat event as the SDK decrypted it.
type Event struct {
	Type     string // "message", "keyChange", …
	Verified bool
	SenderID string
	Content  struct{ Text string }
}

// Customer is the user the SDK decrypts as: their private keys as the SDK
// exports them (base64), user id and key version.
type Customer struct {
	Keys, UserID, KeyVersion string
}

// Decrypt has the SDK decrypt events (base64 MessageEvents, oldest first) as
// c, with the participants' signing keys (xchat.SigningKey values, whose JSON
// is the SDK's), and returns them; it fails the test when the SDK reports an
// error for any of them.
func Decrypt(t testing.TB, c Customer, signingKeys any, events []string) []Event {
	t.Helper()
	var got struct {
		Messages []Event
		Errors   map[string]string
	}
	Run(t, map[string]any{"op": "decrypt", "customerKeys": c.Keys, "customerId": c.UserID, "customerVersion": c.KeyVersion,
		"signingKeys": signingKeys, "events": events}, &got)
	if len(got.Errors) != 0 {
		t.Fatalf("X's SDK could not decrypt %d of the events: %v (it read %+v)", len(got.Errors), got.Errors, got.Messages)
	}
	return got.Messages
}
