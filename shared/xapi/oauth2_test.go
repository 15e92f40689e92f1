package xapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"golang.org/x/oauth2"

	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// oneSecret is an in-memory Secrets Manager of one secret.
type oneSecret struct {
	value string
	puts  int
}

func (s *oneSecret) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(s.value)}, nil
}

func (s *oneSecret) PutSecretValue(_ context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	s.value, s.puts = aws.ToString(in.SecretString), s.puts+1
	return &secretsmanager.PutSecretValueOutput{}, nil
}

func TestSaveOAuth2KeepsTheOtherKeys(t *testing.T) {
	sm := &oneSecret{value: `{"api_key":"k","api_secret":"s","access_token":"a","access_token_secret":"b"}`}
	exp := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	tok := xapi.OAuth2Token{AccessToken: "at", RefreshToken: "rt", Expiry: exp, Scope: strings.Join(xapi.OAuth2Scopes, " "), ClientID: "c", UserID: "1590000000000000001"}
	if err := xapi.SaveOAuth2(t.Context(), sm, "pajarito/x", tok); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(sm.value), &got); err != nil {
		t.Fatal(err)
	}
	if got["api_key"] != "k" || got["access_token_secret"] != "b" || got["oauth2_refresh_token"] != "rt" || got["oauth2_user_id"] != tok.UserID ||
		got["oauth2_expires_at"] != "2026-12-06T20:00:00Z" {
		t.Errorf("secret now %v", got)
	}
	// The OAuth 1.0a credentials still read from it.
	if c, err := xapi.CredentialsFromSecret(t.Context(), sm, "pajarito/x"); err != nil || c.APIKey != "k" {
		t.Errorf("credentials after the save: %+v, %v", c, err)
	}

	bad := &oneSecret{value: "not json, with a password in it"}
	err := xapi.SaveOAuth2(t.Context(), bad, "pajarito/x", tok)
	if err == nil || strings.Contains(err.Error(), "password") || bad.puts != 0 {
		t.Errorf("a secret that is not JSON: %v (puts %d); want an error that shows none of it, and no write", err, bad.puts)
	}
}

func TestOAuth2MissingScopes(t *testing.T) {
	tests := []struct {
		scope string
		want  []string
	}{
		{"", nil},
		{strings.Join(xapi.OAuth2Scopes, " "), nil},
		{"tweet.read users.read dm.read offline.access", []string{"dm.write"}},
		{"tweet.read", []string{"dm.read", "dm.write", "users.read", "offline.access"}},
	}
	for _, tt := range tests {
		got := xapi.OAuth2Token{Scope: tt.scope}.MissingScopes()
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("MissingScopes(%q) = %v, want %v", tt.scope, got, tt.want)
		}
	}
}

// TestOAuth2RefreshRotates: X's refresh tokens work once. Against the fake, a
// refresh gives a new pair; the old refresh token is then refused — which is
// why only one process may refresh at a time.
func TestOAuth2RefreshRotates(t *testing.T) {
	fake := xfake.Start()
	t.Cleanup(fake.Close)
	fake.SetMe("1590000000000000001")
	cfg := xapi.OAuth2Config("client", "", "http://127.0.0.1:1/callback", fake.URL)
	if !strings.HasPrefix(cfg.Endpoint.AuthURL, fake.URL+"/i/oauth2/authorize") || cfg.Endpoint.TokenURL != fake.URL+"/2/oauth2/token" {
		t.Fatalf("endpoints %+v", cfg.Endpoint)
	}
	if x := xapi.OAuth2Config("client", "secret", "", ""); x.Endpoint.TokenURL != xapi.OAuth2TokenURL || x.Endpoint.AuthStyle != oauth2.AuthStyleInHeader {
		t.Errorf("X's endpoints %+v", x.Endpoint)
	}
	// A code, as the browser gets it.
	verifier := oauth2.GenerateVerifier()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Query().Get("state") != "st" {
		t.Fatalf("redirect %q", resp.Header.Get("Location"))
	}
	if _, err := cfg.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption("another verifier")); err == nil {
		t.Fatal("the code was exchanged with another PKCE verifier")
	}
	resp, err = noRedirect.Get(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, _ = url.Parse(resp.Header.Get("Location"))
	first, err := cfg.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || first.RefreshToken == "" {
		t.Fatalf("exchange: %+v, %v", first, err)
	}
	expired := *first
	expired.Expiry = time.Now().Add(-time.Minute)
	second, err := cfg.TokenSource(t.Context(), &expired).Token()
	if err != nil || second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatalf("refresh: %+v, %v", second, err)
	}
	_, err = cfg.TokenSource(t.Context(), &expired).Token() // the old refresh token again
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_request" {
		t.Errorf("a used refresh token: %v, want X's invalid_request", err)
	}
	if fake.OAuth2Refreshes() != 1 {
		t.Errorf("the fake answered %d refreshes, want 1", fake.OAuth2Refreshes())
	}
}
