package xapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
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
	mu    sync.Mutex
	value string
	puts  int
}

func (s *oneSecret) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(s.value)}, nil
}

func (s *oneSecret) PutSecretValue(_ context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.value, s.puts = aws.ToString(in.SecretString), s.puts+1
	return &secretsmanager.PutSecretValueOutput{}, nil
}

// memLease is an in-memory lease, as the store's: one holder at a time.
type memLease struct {
	mu     sync.Mutex
	holder string
	until  time.Time
	takes  int
}

func (l *memLease) TakeLease(_ context.Context, _, holder string, now, until time.Time) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder != "" && l.holder != holder && now.Before(l.until) {
		return false, nil
	}
	l.holder, l.until, l.takes = holder, until, l.takes+1
	return true, nil
}

func (l *memLease) ReleaseLease(_ context.Context, _, holder string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder != holder {
		return false, nil
	}
	l.holder = ""
	return true, nil
}

// fakeSignIn signs in at the fake as its user and returns the tokens.
func fakeSignIn(t *testing.T, cfg *oauth2.Config) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, _ := url.Parse(resp.Header.Get("Location"))
	tok, err := cfg.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestOAuth2KeeperRefreshesOnce: eight processes find the token about to end
// at once; one refreshes it at X, under the lease, and the others read the new
// pair from the secret. Then none refreshes while it is fresh.
func TestOAuth2KeeperRefreshesOnce(t *testing.T) {
	fake := xfake.Start()
	t.Cleanup(fake.Close)
	fake.SetMe("1590000000000000001")
	cfg := xapi.OAuth2Config("client", "", "http://127.0.0.1:1/callback", fake.URL)
	tok := xapi.NewOAuth2Token(fakeSignIn(t, cfg), "client", "1590000000000000001")
	tok.Expiry = time.Now().Add(time.Minute) // within the 5-minute margin
	sm, lease := &oneSecret{value: `{"api_key":"k"}`}, &memLease{}
	if err := xapi.SaveOAuth2(t.Context(), sm, "s", tok); err != nil {
		t.Fatal(err)
	}
	keepers := make([]*xapi.OAuth2Keeper, 8)
	got := make([]xapi.OAuth2Token, len(keepers))
	var wg sync.WaitGroup
	for i := range keepers {
		keepers[i] = &xapi.OAuth2Keeper{BaseURL: fake.URL, Secrets: sm, SecretID: "s", Lease: lease}
		wg.Go(func() {
			var err error
			if got[i], err = keepers[i].Token(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if fake.OAuth2Refreshes() != 1 {
		t.Fatalf("X was asked %d refreshes, want 1", fake.OAuth2Refreshes())
	}
	for i, g := range got {
		if g.AccessToken == tok.AccessToken || g.AccessToken != got[0].AccessToken || time.Until(g.Expiry) < time.Hour {
			t.Errorf("process %d got %+v, want the one new token", i, g)
		}
	}
	if who, err := xapi.OAuth2User(t.Context(), nil, fake.URL, got[0].AccessToken); err != nil || who.ID != "1590000000000000001" {
		t.Errorf("the new token acts for %+v, %v", who, err)
	}
	for _, k := range keepers {
		if _, err := k.Token(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if fake.OAuth2Refreshes() != 1 || lease.holder != "" {
		t.Errorf("after: %d refreshes, lease held by %q; want no more, the lease free", fake.OAuth2Refreshes(), lease.holder)
	}
}

func TestOAuth2KeeperErrors(t *testing.T) {
	fake := xfake.Start()
	t.Cleanup(fake.Close)
	fake.SetMe("1590000000000000001")

	k := &xapi.OAuth2Keeper{BaseURL: fake.URL, Secrets: &oneSecret{value: `{"api_key":"k"}`}, SecretID: "s", Lease: &memLease{}}
	if _, err := k.Token(t.Context()); !errors.Is(err, xapi.ErrOAuth2NotSignedIn) {
		t.Errorf("no token in the secret: %v", err)
	}

	stale := xapi.OAuth2Token{AccessToken: "old", RefreshToken: "used-or-revoked", Expiry: time.Now().Add(-time.Hour), ClientID: "client", UserID: "1590000000000000001"}
	sm := &oneSecret{value: `{}`}
	if err := xapi.SaveOAuth2(t.Context(), sm, "s", stale); err != nil {
		t.Fatal(err)
	}
	k = &xapi.OAuth2Keeper{BaseURL: fake.URL, Secrets: sm, SecretID: "s", Lease: &memLease{}}
	_, err := k.Token(t.Context())
	if !errors.Is(err, xapi.ErrOAuth2Refresh) || strings.Contains(err.Error(), "used-or-revoked") {
		t.Errorf("a refresh X refuses: %v; want ErrOAuth2Refresh, without the token", err)
	}

	// Another process holds the lease and never writes: the wait ends.
	held := &memLease{holder: "elsewhere", until: time.Now().Add(time.Minute)}
	k = &xapi.OAuth2Keeper{BaseURL: fake.URL, Secrets: sm, SecretID: "s", Lease: held, Wait: 300 * time.Millisecond}
	if _, err := k.Token(t.Context()); err == nil || !strings.Contains(err.Error(), "another process is refreshing") {
		t.Errorf("waiting for another refresher: %v", err)
	}
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
