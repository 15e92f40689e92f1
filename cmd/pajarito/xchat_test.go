package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xchat"
)

// xchatEnv is a fake X with the brand signed in: the OAuth 2.0 token file
// pajarito x auth would write, and where setup keeps the keys.
type xchatEnv struct {
	fake           *xfake.Server
	oauth2, keys   string
	brandToken     string
	secretBrandTok xapi.OAuth2Token
}

func newXChatEnv(t *testing.T) *xchatEnv {
	t.Helper()
	t.Chdir("../..") // the brand comes from the repository's pajarito.json
	fake := xfake.Start()
	t.Cleanup(fake.Close)
	t.Setenv(settings.EnvXBaseURL, fake.URL)
	t.Setenv(settings.EnvXSecretID, "")
	access, refresh := fake.IssueOAuth2(whBrandID)
	tok := xapi.OAuth2Token{AccessToken: access, RefreshToken: refresh, Expiry: time.Now().Add(xfake.OAuth2TokenLifetime),
		Scope: strings.Join(xapi.OAuth2Scopes, " "), ClientID: "c", UserID: whBrandID}
	dir := t.TempDir()
	e := &xchatEnv{fake: fake, oauth2: filepath.Join(dir, "x-oauth2.json"), keys: filepath.Join(dir, "keys", "xchat-keys.json"),
		brandToken: access, secretBrandTok: tok}
	if err := writePrivate(e.oauth2, tok); err != nil {
		t.Fatal(err)
	}
	return e
}

// setup runs pajarito xchat setup with the env's files.
func (e *xchatEnv) setup(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(t.Context(), append([]string{"xchat", "setup", "--oauth2", e.oauth2, "--out", e.keys}, args...), &out, &out)
	return out.String(), err
}

// held reads the keys file setup wrote.
func (e *xchatEnv) held(t *testing.T) map[string]string {
	t.Helper()
	info, err := os.Stat(e.keys)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", e.keys, info.Mode().Perm())
	}
	var held map[string]string
	b, _ := os.ReadFile(e.keys)
	if err := json.Unmarshal(b, &held); err != nil {
		t.Fatal(err)
	}
	return held
}

// checkHeld checks that the kept private keys are those of the key X serves
// for the brand under the kept version, and returns their identity.
func checkHeld(t *testing.T, held map[string]string, served []xfake.PublicKey) *xchat.Identity {
	t.Helper()
	id, err := xchat.ParseIdentityBase64(held[xapi.SecretXChatPrivateKeys])
	if err != nil {
		t.Fatalf("the kept private keys do not parse: %v", err)
	}
	last := served[len(served)-1]
	reg, _ := id.Registration()
	if last.PublicKey != reg.PublicKey || last.SigningPublicKey != reg.SigningPublicKey || last.Version != held[xapi.SecretXChatKeyVersion] {
		t.Errorf("X serves version %s of other keys than those kept (version %s)", last.Version, held[xapi.SecretXChatKeyVersion])
	}
	if held[xchatPendingKeys] != "" || held[xchatFingerprint] != id.Fingerprint() || held[xchatUserID] != whBrandID {
		t.Errorf("kept %v", keysOf(held))
	}
	return id
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestXChatSetupRegistersAndKeeps(t *testing.T) {
	e := newXChatEnv(t)
	out, err := e.setup(t)
	if err != nil {
		t.Fatalf("xchat setup: %v\n%s", err, out)
	}
	served := e.fake.PublicKeys(whBrandID)
	if len(served) != 1 {
		t.Fatalf("X holds %d keys for the brand", len(served))
	}
	held := e.held(t)
	id := checkHeld(t, held, served)
	for _, want := range []string{"version " + served[0].Version, "Fingerprint of the identity key: " + id.Fingerprint(), e.keys} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, held[xapi.SecretXChatPrivateKeys][:16]) {
		t.Errorf("the output shows the private keys:\n%s", out)
	}
	// The keys X serves verify, and the kept identity decrypts what is sent to it.
	keys, err := xapi.PublicKeys(t.Context(), nil, e.fake.URL, e.brandToken, whBrandID)
	var set xchat.SigningKeySet
	if err != nil || len(keys) != 1 || set.Add(xchat.SigningKey(keys[0])) != nil {
		t.Errorf("X serves %+v, %v", keys, err)
	}

	// A second setup refuses, and changes nothing.
	out, err = e.setup(t)
	if !errors.Is(err, errXChatKeysExist) || !strings.Contains(err.Error(), "--rotate") || !strings.Contains(err.Error(), "set up already") {
		t.Errorf("a second setup: %v\n%s", err, out)
	}
	if again := e.held(t); len(e.fake.PublicKeys(whBrandID)) != 1 || again[xapi.SecretXChatPrivateKeys] != held[xapi.SecretXChatPrivateKeys] {
		t.Error("the refused setup changed the keys")
	}

	// --rotate registers a new version and keeps the old keys under theirs.
	out, err = e.setup(t, "--rotate")
	if err != nil {
		t.Fatalf("xchat setup --rotate: %v\n%s", err, out)
	}
	served = e.fake.PublicKeys(whBrandID)
	rotated := e.held(t)
	if len(served) != 2 || served[1].Version == served[0].Version {
		t.Fatalf("after the rotation X holds %+v", served)
	}
	checkHeld(t, rotated, served)
	old := xapi.SecretXChatPreviousKeysPrefix + served[0].Version
	if rotated[old] != held[xapi.SecretXChatPrivateKeys] || rotated[xapi.SecretXChatPrivateKeys] == held[xapi.SecretXChatPrivateKeys] {
		t.Errorf("after the rotation the file holds %v; want the old keys under %s", keysOf(rotated), old)
	}
	if !strings.Contains(out, "readable only with them") || !strings.Contains(out, old) {
		t.Errorf("the rotation's output:\n%s", out)
	}
}

func TestXChatSetupRefusesKeysItDoesNotHold(t *testing.T) {
	e := newXChatEnv(t)
	other, _ := xchat.GenerateIdentity()
	reg, _ := other.Registration()
	e.fake.AddPublicKeys(xfake.PublicKey{UserID: whBrandID, Version: "5", PublicKey: reg.PublicKey,
		SigningPublicKey: reg.SigningPublicKey, IdentityPublicKeySignature: reg.IdentityPublicKeySignature})
	out, err := e.setup(t)
	if !errors.Is(err, errXChatKeysExist) || !strings.Contains(err.Error(), "not in") || !strings.Contains(err.Error(), other.Fingerprint()) {
		t.Errorf("setup over keys made elsewhere: %v\n%s", err, out)
	}
	if _, err := os.Stat(e.keys); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s was written: %v", e.keys, err)
	}
	if out, err := e.setup(t, "--rotate"); err != nil || len(e.fake.PublicKeys(whBrandID)) != 2 {
		t.Errorf("--rotate over keys made elsewhere: %v\n%s", err, out)
	}
}

// TestXChatSetupFinishesAnEarlierOne: X registered the keys but the answer
// was lost; the next setup finds them at X and keeps them, registering
// nothing new.
func TestXChatSetupFinishesAnEarlierOne(t *testing.T) {
	e := newXChatEnv(t)
	var lose atomic.Bool
	lose.Store(true)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && lose.CompareAndSwap(true, false) {
			e.fake.LoseAnswerNext(1) // X registers the keys; its answer is lost
		}
		e.fake.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	t.Setenv(settings.EnvXBaseURL, front.URL)
	out, err := e.setup(t)
	if err == nil || !strings.Contains(err.Error(), "run pajarito xchat setup again") {
		t.Fatalf("a lost answer: %v\n%s", err, out)
	}
	if held := e.held(t); held[xchatPendingKeys] == "" || held[xapi.SecretXChatPrivateKeys] != "" || len(e.fake.PublicKeys(whBrandID)) != 1 {
		t.Fatalf("after the lost answer the file holds %v", keysOf(held))
	}
	out, err = e.setup(t)
	if err != nil || !strings.Contains(out, "Finished an earlier setup") || len(e.fake.PublicKeys(whBrandID)) != 1 {
		t.Fatalf("the next setup: %v\n%s", err, out)
	}
	checkHeld(t, e.held(t), e.fake.PublicKeys(whBrandID))
}

func TestXChatSetupNeedsTheToken(t *testing.T) {
	e := newXChatEnv(t)
	stale := e.secretBrandTok
	stale.Expiry = time.Now().Add(-time.Minute)
	staleFile := filepath.Join(t.TempDir(), "stale.json")
	if err := writePrivate(staleFile, stale); err != nil {
		t.Fatal(err)
	}
	another := e.secretBrandTok
	another.UserID = "1862954300111222333"
	anotherFile := filepath.Join(t.TempDir(), "another.json")
	if err := writePrivate(anotherFile, another); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		oauth2 string
		is     error
		want   string
	}{
		{"no token file", filepath.Join(t.TempDir(), "none.json"), xapi.ErrOAuth2NotSignedIn, "pajarito x auth"},
		{"stale token", staleFile, nil, "sign the brand in again with pajarito x auth"},
		{"another account's token", anotherFile, xapi.ErrOAuth2Wrong, "sign in as the brand with pajarito x auth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(t.Context(), []string{"xchat", "setup", "--oauth2", tt.oauth2, "--out", e.keys}, &out, &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) || tt.is != nil && !errors.Is(err, tt.is) || strings.Contains(err.Error(), e.brandToken) {
				t.Errorf("error %v, want one naming %q", err, tt.want)
			}
			if len(e.fake.PublicKeys(whBrandID)) != 0 {
				t.Error("keys were registered")
			}
		})
	}
}

// memSecret is an in-memory Secrets Manager of one secret.
type memSecret struct {
	mu    sync.Mutex
	value string
}

func (s *memSecret) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(s.value)}, nil
}

func (s *memSecret) PutSecretValue(_ context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.value = aws.ToString(in.SecretString)
	return &secretsmanager.PutSecretValueOutput{}, nil
}

// TestXChatSetupInTheSecret: with PAJARITO_X_SECRET_ID the token comes from
// the secret and the private keys go into it, beside the other keys.
func TestXChatSetupInTheSecret(t *testing.T) {
	e := newXChatEnv(t)
	sm := &memSecret{value: `{"api_key":"k","api_secret":"s"}`}
	if err := xapi.SaveOAuth2(t.Context(), sm, "pajarito/x", e.secretBrandTok); err != nil {
		t.Fatal(err)
	}
	old := xchatSecrets
	xchatSecrets = func(context.Context) (xapi.SecretsReadWriter, error) { return sm, nil }
	t.Cleanup(func() { xchatSecrets = old })
	t.Setenv(settings.EnvXSecretID, "pajarito/x")

	var out bytes.Buffer
	if err := run(t.Context(), []string{"xchat", "setup"}, &out, &out); err != nil {
		t.Fatalf("xchat setup: %v\n%s", err, out.String())
	}
	var fields map[string]string
	if err := json.Unmarshal([]byte(sm.value), &fields); err != nil {
		t.Fatal(err)
	}
	if fields["api_key"] != "k" || fields["oauth2_access_token"] != e.brandToken {
		t.Errorf("the setup lost the secret's other keys: %v", keysOf(fields))
	}
	blob, err := base64.StdEncoding.DecodeString(fields[xapi.SecretXChatPrivateKeys])
	if err != nil || len(blob) != 64 {
		t.Fatalf("xchat_private_keys is not the base64 of 64 bytes: %v", err)
	}
	checkHeld(t, fields, e.fake.PublicKeys(whBrandID))
	if !strings.Contains(out.String(), "the secret pajarito/x") {
		t.Errorf("output:\n%s", out.String())
	}
}
