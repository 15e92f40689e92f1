package xapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"golang.org/x/oauth2"

	"github.com/pajarito-care/pajarito/shared/settings"
)

// OAuth2LeaseName is the lease under which one process at a time refreshes the
// brand's OAuth 2.0 token.
const OAuth2LeaseName = "oauth2-refresh"

// Errors of OAuth2Keeper.Token.
var (
	// ErrOAuth2NotSignedIn: the secret holds no OAuth 2.0 token.
	ErrOAuth2NotSignedIn = errors.New("the brand has not signed in with OAuth 2.0 (run pajarito x auth)")
	// ErrOAuth2Refresh: X refused to refresh the token; the brand must sign in
	// again.
	ErrOAuth2Refresh = errors.New("X refused to refresh the brand's OAuth 2.0 token (sign in again: pajarito x auth)")
)

// OAuth2Lease lets one process at a time refresh the token; *store.Store
// implements it.
type OAuth2Lease interface {
	TakeLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) (bool, error)
}

// OAuth2Keeper keeps the brand's OAuth 2.0 access token fresh for every
// process that uses it. The token lives in the secret (SaveOAuth2). X's
// refresh tokens work once, so when the token nears its end one process
// refreshes it, under the lease, and writes the new pair to the secret; the
// others read it there.
type OAuth2Keeper struct {
	// BaseURL, when set, is the X-compatible server that refreshes tokens (the
	// app's client id and secret come with the token).
	BaseURL  string
	Secrets  SecretsReadWriter
	SecretID string
	Lease    OAuth2Lease
	// Margin is how long before its end the token is refreshed (5 minutes when
	// 0); Wait, how long a process that did not take the lease waits for the
	// new token in the secret (15 s when 0); Lease holds the lease for a minute.
	Margin, Wait time.Duration
	// Now is the clock; nil is the wall's.
	Now func() time.Time
	Log *slog.Logger

	once   sync.Once
	holder string
	mu     sync.Mutex
	cached OAuth2Token
}

// Token returns a token valid for at least Margin, refreshing it when its end
// is nearer. Its errors wrap ErrOAuth2NotSignedIn or ErrOAuth2Refresh when the
// brand must sign in (again); they never hold a token.
func (k *OAuth2Keeper) Token(ctx context.Context) (OAuth2Token, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fresh(k.cached) {
		return k.cached, nil
	}
	tok, err := k.read(ctx)
	if err != nil {
		return OAuth2Token{}, err
	}
	if k.fresh(tok) {
		k.cached = tok
		return tok, nil
	}
	if tok, err = k.refresh(ctx); err != nil {
		return OAuth2Token{}, err
	}
	k.cached = tok
	return tok, nil
}

// fresh reports whether tok lasts at least Margin more.
func (k *OAuth2Keeper) fresh(tok OAuth2Token) bool {
	margin := k.Margin
	if margin <= 0 {
		margin = 5 * time.Minute
	}
	return tok.AccessToken != "" && tok.Expiry.After(k.now().Add(margin))
}

// read reads the token from the secret.
func (k *OAuth2Keeper) read(ctx context.Context) (OAuth2Token, error) {
	out, err := k.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(k.SecretID)})
	if err != nil {
		return OAuth2Token{}, fmt.Errorf("xapi: read the OAuth 2.0 token from secret %s: %w", k.SecretID, err)
	}
	var tok OAuth2Token
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &tok); err != nil {
		return OAuth2Token{}, fmt.Errorf("xapi: secret %s is not a JSON object", k.SecretID)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		return OAuth2Token{}, fmt.Errorf("xapi: secret %s: %w", k.SecretID, ErrOAuth2NotSignedIn)
	}
	return tok, nil
}

// refresh refreshes the token under the lease, or waits for the process that
// holds it to write the new token.
func (k *OAuth2Keeper) refresh(ctx context.Context) (OAuth2Token, error) {
	k.once.Do(func() {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		k.holder = hex.EncodeToString(b)
	})
	now := k.now()
	took, err := k.Lease.TakeLease(ctx, OAuth2LeaseName, k.holder, now, now.Add(time.Minute))
	if err != nil {
		return OAuth2Token{}, fmt.Errorf("xapi: refresh the OAuth 2.0 token: %w", err)
	}
	if !took {
		return k.awaitRefresh(ctx)
	}
	defer func() {
		if _, err := k.Lease.ReleaseLease(context.WithoutCancel(ctx), OAuth2LeaseName, k.holder); err != nil {
			k.logger().WarnContext(ctx, "xapi: the OAuth 2.0 refresh lease was not released; it ends within a minute", "error", err.Error())
		}
	}()
	// Another process may have refreshed it between the read and the lease.
	old, err := k.read(ctx)
	if err != nil || k.fresh(old) {
		return old, err
	}
	stale := &oauth2.Token{AccessToken: old.AccessToken, RefreshToken: old.RefreshToken, Expiry: k.now().Add(-time.Minute)}
	cfg := OAuth2Config(old.ClientID, old.ClientSecret, "", k.BaseURL)
	got, err := cfg.TokenSource(ctx, stale).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return OAuth2Token{}, fmt.Errorf("xapi: %w: X answered %d %s", ErrOAuth2Refresh, re.Response.StatusCode, re.ErrorCode)
		}
		return OAuth2Token{}, fmt.Errorf("xapi: refresh the OAuth 2.0 token: %w", err)
	}
	tok := NewOAuth2Token(got, old.ClientID, old.UserID)
	tok.ClientSecret = old.ClientSecret
	if tok.Scope == "" {
		tok.Scope = old.Scope
	}
	return tok, k.save(ctx, tok)
}

// save writes the refreshed token to the secret, trying three times: the old
// refresh token no longer works, so a pair that is not kept locks every other
// process out until the brand signs in again.
func (k *OAuth2Keeper) save(ctx context.Context, tok OAuth2Token) error {
	var err error
	for try := range 3 {
		if err = SaveOAuth2(context.WithoutCancel(ctx), k.Secrets, k.SecretID, tok); err == nil {
			return nil
		}
		time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
	}
	k.logger().ErrorContext(ctx, "xapi: the refreshed OAuth 2.0 token could not be written to the secret; this process uses it, the others will need pajarito x auth", "error", err.Error())
	return nil
}

// awaitRefresh waits for the lease holder's new token in the secret.
func (k *OAuth2Keeper) awaitRefresh(ctx context.Context) (OAuth2Token, error) {
	wait := k.Wait
	if wait <= 0 {
		wait = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		tok, err := k.read(ctx)
		if err == nil && k.fresh(tok) {
			return tok, nil
		}
		select {
		case <-ctx.Done():
			return OAuth2Token{}, fmt.Errorf("xapi: another process is refreshing the OAuth 2.0 token and its new token did not reach secret %s in %s", k.SecretID, wait)
		case <-t.C:
		}
	}
}

func (k *OAuth2Keeper) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

func (k *OAuth2Keeper) logger() *slog.Logger {
	if k.Log != nil {
		return k.Log
	}
	return slog.Default()
}

// AccessToken returns the access token of Token, for the callers that send
// it as a bearer token.
func (k *OAuth2Keeper) AccessToken(ctx context.Context) (string, error) {
	tok, err := k.Token(ctx)
	return tok.AccessToken, err
}

// OAuth2KeeperFromEnv returns the keeper of the brand's OAuth 2.0 token in the
// Secrets Manager secret PAJARITO_X_SECRET_ID names, refreshing it at X (or at
// X_API_BASE_URL) under lease; nil without that secret.
func OAuth2KeeperFromEnv(getenv func(string) string, awsCfg aws.Config, lease OAuth2Lease, log *slog.Logger) *OAuth2Keeper {
	id := strings.TrimSpace(getenv(settings.EnvXSecretID))
	if id == "" {
		return nil
	}
	return &OAuth2Keeper{
		BaseURL:  strings.TrimSpace(getenv(settings.EnvXBaseURL)),
		Secrets:  secretsmanager.NewFromConfig(awsCfg),
		SecretID: id,
		Lease:    lease,
		Log:      log,
	}
}
