package xapi_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xchat"
)

const keysBrand = "1590000000000000001"

func newRegistration(t *testing.T) xchat.Registration {
	t.Helper()
	id, err := xchat.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := id.Registration()
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// TestPublicKeysAtTheFake registers two key versions as the brand and reads
// them back, as the brand and as a customer; the keys verify in a
// SigningKeySet.
func TestPublicKeysAtTheFake(t *testing.T) {
	fake := xfake.Start()
	t.Cleanup(fake.Close)
	token, _ := fake.IssueOAuth2(keysBrand)
	ctx := t.Context()
	if keys, err := xapi.PublicKeys(ctx, nil, fake.URL, token, keysBrand); err != nil || len(keys) != 0 {
		t.Fatalf("before any registration: %v, %v", keys, err)
	}
	var versions []string
	var regs []xchat.Registration
	for range 2 {
		reg := newRegistration(t)
		v, err := xapi.RegisterPublicKeys(ctx, fake.Client(), fake.URL, token, keysBrand, xapi.KeyRegistration(reg))
		if err != nil || v == "" {
			t.Fatalf("RegisterPublicKeys: %q, %v", v, err)
		}
		versions, regs = append(versions, v), append(regs, reg)
	}
	if versions[0] == versions[1] {
		t.Errorf("two registrations got the same version %s", versions[0])
	}
	customer, _ := fake.IssueOAuth2("1862954300111222333")
	keys, err := xapi.PublicKeys(ctx, nil, fake.URL, customer, keysBrand)
	if err != nil || len(keys) != 2 {
		t.Fatalf("PublicKeys: %+v, %v", keys, err)
	}
	var set xchat.SigningKeySet
	for i, k := range keys {
		if k.UserID != keysBrand || k.Version != versions[i] || k.IdentityPublicKey != regs[i].PublicKey || k.PublicKey != regs[i].SigningPublicKey {
			t.Errorf("key %d = %+v", i, k)
		}
		if err := set.Add(xchat.SigningKey(k)); err != nil {
			t.Errorf("key %d does not verify: %v", i, err)
		}
	}
	// A customer's token cannot register the brand's keys.
	_, err = xapi.RegisterPublicKeys(ctx, nil, fake.URL, customer, keysBrand, xapi.KeyRegistration(newRegistration(t)))
	var api *xapi.APIError
	if !errors.As(err, &api) || api.StatusCode != http.StatusForbidden || !strings.Contains(err.Error(), "own OAuth 2.0 user-context token") {
		t.Errorf("registering for another user: %v", err)
	}
}

func TestPublicKeysErrors(t *testing.T) {
	const token = "secret-access-token-value"
	reset := time.Date(2026, 8, 18, 16, 15, 0, 0, time.UTC)
	tests := []struct {
		name     string
		status   int
		header   map[string]string
		body     string
		register bool
		check    func(err error) bool
		want     string
	}{
		{name: "token refused", status: 401, body: `{"title":"Unauthorized","detail":"Unauthorized","status":401}`,
			check: func(err error) bool { return errors.Is(err, xapi.ErrUnauthorized) }, want: "pajarito x auth"},
		{name: "wrong context", status: 403, body: `{"title":"Unsupported Authentication","detail":"Authenticating with OAuth 2.0 Application-Only is forbidden"}`,
			check: func(err error) bool { return !xapi.IsRetryable(err) }, want: "Application-Only"},
		{name: "rate limited", status: 429, header: map[string]string{"x-rate-limit-reset": "1787069700"},
			check: func(err error) bool {
				var rl *xapi.RateLimitedError
				return errors.As(err, &rl) && rl.RateLimit.Reset.Equal(reset) && xapi.IsRetryable(err)
			}},
		{name: "X down", status: 503, body: "<html>down</html>", check: xapi.IsRetryable, want: "down"},
		{name: "error_code", status: 200, body: `{"data":{"error_code":"KeyLimitExceeded"}}`, register: true,
			check: func(err error) bool { return err != nil }, want: "error_code KeyLimitExceeded"},
		{name: "no data", status: 200, body: `{"errors":[{"title":"Invalid Request","detail":"public_key is invalid"}]}`, register: true,
			check: func(err error) bool { return err != nil }, want: "public_key is invalid"},
		{name: "not JSON", status: 200, body: `<html>`, check: func(err error) bool { return err != nil }, want: "not the JSON expected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			var err error
			if tt.register {
				_, err = xapi.RegisterPublicKeys(t.Context(), nil, srv.URL, token, keysBrand, xapi.KeyRegistration(newRegistration(t)))
			} else {
				_, err = xapi.PublicKeys(t.Context(), nil, srv.URL, token, keysBrand)
			}
			if err == nil || !tt.check(err) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), token) {
				t.Errorf("error %v; want one with %q, without the token", err, tt.want)
			}
		})
	}
	if _, err := xapi.PublicKeys(t.Context(), nil, "http://127.0.0.1:1", token, "me"); err == nil || !strings.Contains(err.Error(), "not a numeric X user id") {
		t.Errorf("a bad user id: %v", err)
	}
}

// TestPublicKeysShapes reads both shapes docs.x.com shows for GET
// /2/users/{id}/public_keys, and checks what RegisterPublicKeys sends.
func TestPublicKeysShapes(t *testing.T) {
	reg := newRegistration(t)
	var sent map[string]any
	var auth string
	answers := map[string]string{
		"list":   `{"data":[{"public_key":"` + reg.PublicKey + `","signing_public_key":"` + reg.SigningPublicKey + `","identity_public_key_signature":"` + reg.IdentityPublicKeySignature + `","public_key_version":"42"}]}`,
		"object": `{"data":{"public_key":"` + reg.PublicKey + `","signing_public_key":"` + reg.SigningPublicKey + `","identity_public_key_signature":"` + reg.IdentityPublicKeySignature + `","version":"42"}}`,
	}
	var shape string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		if r.Method == http.MethodPost {
			_ = json.NewDecoder(r.Body).Decode(&sent)
			io.WriteString(w, `{"data":{}}`) // no version: the proposed one stands
			return
		}
		io.WriteString(w, answers[shape])
	}))
	defer srv.Close()
	for shape = range answers {
		keys, err := xapi.PublicKeys(t.Context(), nil, srv.URL, "tok", keysBrand)
		if err != nil || len(keys) != 1 || keys[0].Version != "42" || keys[0].IdentityPublicKey != reg.PublicKey || keys[0].PublicKey != reg.SigningPublicKey {
			t.Errorf("%s: %+v, %v", shape, keys, err)
		}
	}
	v, err := xapi.RegisterPublicKeys(t.Context(), nil, srv.URL, "tok", keysBrand, xapi.KeyRegistration(reg))
	pk, _ := sent["public_key"].(map[string]any)
	if err != nil || v != sent["version"] || sent["generate_version"] != true || auth != "Bearer tok" ||
		pk["public_key"] != reg.PublicKey || pk["signing_public_key_signature"] != reg.SigningPublicKeySignature ||
		pk["public_key_fingerprint"] != reg.PublicKeyFingerprint || pk["registration_method"] != "CustomPin" {
		t.Errorf("RegisterPublicKeys = %q, %v; sent %v with %q", v, err, sent, auth)
	}
}

func TestMergeSecret(t *testing.T) {
	sm := &oneSecret{value: `{"api_key":"k","oauth2_access_token":"at","xchat_pending":"p"}`}
	err := xapi.MergeSecret(t.Context(), sm, "pajarito/x", map[string]any{"xchat_private_keys": "b64", "xchat_key_version": "7", "xchat_pending": nil})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(sm.value), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"api_key": "k", "oauth2_access_token": "at", "xchat_private_keys": "b64", "xchat_key_version": "7"}
	if len(got) != len(want) {
		t.Errorf("secret now %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("secret now %v, want %v", got, want)
		}
	}
	for _, bad := range []string{"not json, with a password in it", `["a password"]`, "null"} {
		sm := &oneSecret{value: bad}
		err := xapi.MergeSecret(t.Context(), sm, "pajarito/x", map[string]any{"k": "v"})
		if err == nil || strings.Contains(err.Error(), "password") || sm.puts != 0 {
			t.Errorf("secret %q: %v (puts %d); want an error that shows none of it, and no write", bad, err, sm.puts)
		}
	}
}
