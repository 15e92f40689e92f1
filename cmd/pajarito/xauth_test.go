package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// lockedOut is a writer the command and the test share.
type lockedOut struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedOut) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedOut) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freeRedirect returns a loopback callback URL on a free port.
func freeRedirect(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String() + "/callback"
}

var consentURL = regexp.MustCompile(`(?m)^  (http\S+/i/oauth2/authorize\S+)$`)

// signIn runs pajarito x auth against the fake X and acts as the browser:
// it opens the consent URL the command prints, which the fake answers by
// sending the browser back to the command. It returns the command's error and
// output.
func signIn(t *testing.T, fake *xfake.Server, args ...string) (string, error) {
	t.Helper()
	t.Setenv("X_API_BASE_URL", fake.URL)
	t.Setenv(envOAuth2ClientID, "pajarito-test-client")
	redirect := freeRedirect(t)
	out := &lockedOut{}
	done := make(chan error, 1)
	go func() {
		done <- run(t.Context(), append([]string{"x", "auth", "--redirect", redirect, "--timeout", "30s"}, args...), out, out)
	}()
	var consent string
	for deadline := time.Now().Add(20 * time.Second); consent == ""; time.Sleep(5 * time.Millisecond) {
		select {
		case err := <-done:
			return out.String(), err
		default:
		}
		if m := consentURL.FindStringSubmatch(out.String()); m != nil {
			consent = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no consent URL printed after 20 s:\n%s", out.String())
		}
	}
	// A stranger's answer (another state) is refused, and the command waits on.
	resp, err := http.Get(redirect + "?code=stolen&state=other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a callback with another state got %d, want 400", resp.StatusCode)
	}
	resp, err = http.Get(consent) // the fake consents and redirects to the command
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "close this tab") {
		t.Errorf("the browser ended on %d %q", resp.StatusCode, body)
	}
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(30 * time.Second):
		t.Fatalf("pajarito x auth did not end:\n%s", out.String())
	}
	return "", nil
}

func TestXAuthKeepsTheBrandsTokens(t *testing.T) {
	t.Chdir("../..") // the brand comes from the repository's pajarito.json
	fake := xfake.Start()
	t.Cleanup(fake.Close)
	fake.SetMe(whBrandID)
	file := filepath.Join(t.TempDir(), "keys", "x-oauth2.json")

	out, err := signIn(t, fake, "--out", file)
	if err != nil {
		t.Fatalf("x auth: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Signed in as @PajaritoAir") || !strings.Contains(out, "code_challenge_method=S256") {
		t.Errorf("output:\n%s", out)
	}
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", file, info.Mode().Perm())
	}
	b, _ := os.ReadFile(file)
	var tok xapi.OAuth2Token
	if err := json.Unmarshal(b, &tok); err != nil {
		t.Fatal(err)
	}
	if tok.UserID != whBrandID || tok.AccessToken == "" || tok.RefreshToken == "" || tok.ClientID != "pajarito-test-client" ||
		len(tok.MissingScopes()) != 0 || time.Until(tok.Expiry) < time.Hour {
		t.Errorf("kept %+v", tok)
	}
	// The access token acts for the brand at X.
	if who, err := xapi.OAuth2User(t.Context(), nil, fake.URL, tok.AccessToken); err != nil || who.ID != whBrandID {
		t.Errorf("the kept token acts for %+v, %v", who, err)
	}
}

func TestXAuthRefusesAnotherAccount(t *testing.T) {
	t.Chdir("../..")
	fake := xfake.Start()
	t.Cleanup(fake.Close)
	fake.SetMe("1590000000000000999") // the operator's own account, say
	file := filepath.Join(t.TempDir(), "x-oauth2.json")

	out, err := signIn(t, fake, "--out", file)
	if !errors.Is(err, xapi.ErrOAuth2Wrong) || !strings.Contains(err.Error(), "1590000000000000999") || !strings.Contains(err.Error(), "sign in as the brand") {
		t.Errorf("x auth as another account: %v\n%s", err, out)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s was written: %v", file, err)
	}
}

func TestXAuthBadSettings(t *testing.T) {
	t.Chdir("../..")
	t.Setenv(envOAuth2ClientID, "")
	tests := []struct {
		args []string
		want string
	}{
		{nil, envOAuth2ClientID},
		{[]string{"--client-id", "c", "--redirect", "https://pajarito.example/callback"}, "not an http URL with a port"},
		{[]string{"--client-id", "c", "--redirect", "http://192.0.2.7:8765/callback"}, "not a loopback address"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		err := run(t.Context(), append([]string{"x", "auth"}, tt.args...), &out, &out)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("x auth %v: %v, want an error naming %q", tt.args, err, tt.want)
		}
	}
	if err := run(t.Context(), []string{"x", "nope"}, io.Discard, io.Discard); err == nil || !strings.Contains(fmt.Sprint(err), "use auth") {
		t.Errorf("x nope: %v", err)
	}
}
