package xapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/settings"
)

// Credentials authenticate Pajarito to X as the brand account: OAuth 1.0a user
// context (the app's consumer key and secret, and the brand account's access token
// and secret), plus an optional app-only bearer token. Never log them.
type Credentials struct {
	APIKey            string // the app's API key (OAuth 1.0a consumer key)
	APISecret         string // the app's API key secret (consumer secret)
	AccessToken       string // the brand account's access token ("<user id>-…")
	AccessTokenSecret string // the brand account's access token secret
	// BearerToken is the app-only token; when set, recent searches use it (X's
	// per-app window, 450 requests per 15 minutes, instead of 300 per user).
	BearerToken string
	// ConsumerSecret is the webhook HMAC key when it differs from APISecret (see
	// WebhookSecret).
	ConsumerSecret string
	// Source says where the credentials came from ("environment", or "secret
	// <id>"), so that errors name the place to fix.
	Source string
}

// WebhookSecret returns the key of X's webhook CRC and signatures: the app's
// consumer secret, which is APISecret unless ConsumerSecret says otherwise.
func (c Credentials) WebhookSecret() string {
	if c.ConsumerSecret != "" {
		return c.ConsumerSecret
	}
	return c.APISecret
}

// ErrNoCredentials is wrapped by CredentialsFromEnv when none of the required
// variables is set (the local dev system then uses a fake X API).
var ErrNoCredentials = errors.New("xapi: no X credentials are set")

// portalKeys is where the app's and the brand account's keys are found.
const portalKeys = "from the X developer portal → your app → Keys and tokens"

// credentialFields describes each credential: its environment variable, its key
// in the Secrets Manager JSON, what it is, and whether it is required.
var credentialFields = []struct {
	env, key, what string
	required       bool
	field          func(*Credentials) *string
}{
	{"X_API_KEY", "api_key", "the app's API key (OAuth 1.0a consumer key), " + portalKeys + " → Consumer keys", true,
		func(c *Credentials) *string { return &c.APIKey }},
	{"X_API_SECRET", "api_secret", "the app's API key secret (OAuth 1.0a consumer secret), " + portalKeys + " → Consumer keys", true,
		func(c *Credentials) *string { return &c.APISecret }},
	{"X_ACCESS_TOKEN", "access_token", "the brand account's OAuth 1.0a access token, " + portalKeys +
		" → Access token and secret (generated while signed in as the brand account, with Read and write and Direct message permissions)", true,
		func(c *Credentials) *string { return &c.AccessToken }},
	{"X_ACCESS_TOKEN_SECRET", "access_token_secret", "the brand account's OAuth 1.0a access token secret, " + portalKeys, true,
		func(c *Credentials) *string { return &c.AccessTokenSecret }},
	{"X_BEARER_TOKEN", "bearer_token", "the app's bearer token (optional), " + portalKeys, false,
		func(c *Credentials) *string { return &c.BearerToken }},
	{"X_CONSUMER_SECRET", "consumer_secret", "the webhook HMAC key (optional; defaults to the API key secret)", false,
		func(c *Credentials) *string { return &c.ConsumerSecret }},
}

// CredentialsFromEnv reads X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN and
// X_ACCESS_TOKEN_SECRET (required), and X_BEARER_TOKEN and X_CONSUMER_SECRET
// (optional) with getenv (os.Getenv). Values are trimmed of surrounding blanks. The
// error names every missing variable, what it is and where to find it; it wraps
// ErrNoCredentials when none of the required ones is set.
func CredentialsFromEnv(getenv func(string) string) (Credentials, error) {
	c := Credentials{Source: "environment"}
	var missing []error
	for _, f := range credentialFields {
		v := strings.TrimSpace(getenv(f.env))
		*f.field(&c) = v
		if v == "" && f.required {
			missing = append(missing, fmt.Errorf("%s is not set: %s", f.env, f.what))
		}
	}
	switch len(missing) {
	case 0:
		return c, nil
	case requiredCount():
		return Credentials{}, errors.Join(append([]error{ErrNoCredentials}, missing...)...)
	}
	return Credentials{}, fmt.Errorf("xapi: X credentials are incomplete: %w", errors.Join(missing...))
}

// LoadCredentials returns the brand account's X credentials: from the Secrets
// Manager secret named by PAJARITO_X_SECRET_ID when it is set (in AWS), else from
// the environment (CredentialsFromEnv).
func LoadCredentials(ctx context.Context, getenv func(string) string, awsCfg aws.Config) (Credentials, error) {
	if id := strings.TrimSpace(getenv(settings.EnvXSecretID)); id != "" {
		return NewSecretCache(secretsmanager.NewFromConfig(awsCfg), id).Credentials(ctx)
	}
	creds, err := CredentialsFromEnv(getenv)
	if err != nil {
		return creds, fmt.Errorf("%w\n(or set %s to the Secrets Manager secret that holds them)", err, settings.EnvXSecretID)
	}
	return creds, nil
}

// FromEnv returns the client acting for brand with the credentials of
// LoadCredentials, talking to X or, when X_API_BASE_URL is set, to that
// X-compatible server.
func FromEnv(ctx context.Context, getenv func(string) string, awsCfg aws.Config, brand care.Brand, log *slog.Logger) (*Client, error) {
	creds, err := LoadCredentials(ctx, getenv, awsCfg)
	if err != nil {
		return nil, err
	}
	return New(creds, Options{Brand: brand, BaseURL: strings.TrimSpace(getenv(settings.EnvXBaseURL)), Log: log})
}

func requiredCount() int {
	n := 0
	for _, f := range credentialFields {
		if f.required {
			n++
		}
	}
	return n
}

// SecretsGetter is the part of the AWS Secrets Manager client that reads secrets;
// *secretsmanager.Client implements it.
type SecretsGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// CredentialsFromSecret reads the credentials from the AWS Secrets Manager secret
// secretID, a JSON object (see the package documentation for its keys). Errors
// name the secret and the missing or malformed keys, never a value.
func CredentialsFromSecret(ctx context.Context, client SecretsGetter, secretID string) (Credentials, error) {
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)})
	if err != nil {
		return Credentials{}, fmt.Errorf("xapi: reading the X credentials secret %q from AWS Secrets Manager: %w%s", secretID, err, secretHint(err, secretID))
	}
	if out.SecretString == nil {
		return Credentials{}, fmt.Errorf("xapi: secret %q holds binary data; store the X credentials as JSON text: %s", secretID, secretShape)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(*out.SecretString), &fields); err != nil || fields == nil {
		where := ""
		var se *json.SyntaxError
		if errors.As(err, &se) {
			where = fmt.Sprintf(" (syntax error at byte %d)", se.Offset)
		}
		return Credentials{}, fmt.Errorf("xapi: secret %q is not a JSON object%s; store the X credentials as %s", secretID, where, secretShape)
	}
	c := Credentials{Source: "secret " + secretID}
	var problems []error
	for _, f := range credentialFields {
		raw, ok := fields[f.key]
		var v string
		if ok && json.Unmarshal(raw, &v) != nil {
			problems = append(problems, fmt.Errorf("secret %q: %q is not a JSON string", secretID, f.key))
			continue
		}
		v = strings.TrimSpace(v)
		*f.field(&c) = v
		if v == "" && f.required {
			problems = append(problems, fmt.Errorf("secret %q lacks %q: %s", secretID, f.key, f.what))
		}
	}
	if len(problems) > 0 {
		return Credentials{}, fmt.Errorf("xapi: X credentials secret is incomplete: %w", errors.Join(problems...))
	}
	return c, nil
}

// secretShape documents the JSON of the credentials secret in error messages.
const secretShape = `{"api_key":"…","api_secret":"…","access_token":"…","access_token_secret":"…","bearer_token":"…"}`

// secretHint explains the usual Secrets Manager errors.
func secretHint(err error, secretID string) string {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return ""
	}
	switch ae.ErrorCode() {
	case "ResourceNotFoundException":
		return fmt.Sprintf(" (the secret does not exist in this account and region: create it with "+
			"`aws secretsmanager create-secret --name %s --secret-string file://x-credentials.json` holding %s, or fix the secret id)", secretID, secretShape)
	case "AccessDeniedException":
		return " (the caller's IAM role lacks secretsmanager:GetSecretValue on the secret, or kms:Decrypt on its key)"
	case "DecryptionFailure":
		return " (Secrets Manager cannot decrypt the secret: check the KMS key policy)"
	}
	return ""
}

// DefaultSecretTTL is how long a SecretCache keeps the credentials.
const DefaultSecretTTL = 5 * time.Minute

// SecretCache keeps the credentials read from Secrets Manager for TTL, so that warm
// Lambda invocations do not read the secret each time while a rotation still
// reaches them within TTL. It is safe for concurrent use; concurrent callers of an
// expired cache wait for a single read. Set the fields before the first use.
type SecretCache struct {
	Client   SecretsGetter
	SecretID string
	// TTL is how long the credentials are kept; 0 means DefaultSecretTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	creds   Credentials
	fetched time.Time
	valid   bool
}

// NewSecretCache returns a cache of the secret with the default TTL.
func NewSecretCache(client SecretsGetter, secretID string) *SecretCache {
	return &SecretCache{Client: client, SecretID: secretID}
}

// Credentials returns the cached credentials, reading the secret when they are
// older than the TTL. A failed read is not cached.
func (c *SecretCache) Credentials(ctx context.Context) (Credentials, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	ttl := c.TTL
	if ttl <= 0 {
		ttl = DefaultSecretTTL
	}
	if c.valid && now.Sub(c.fetched) < ttl {
		return c.creds, nil
	}
	creds, err := CredentialsFromSecret(ctx, c.Client, c.SecretID)
	if err != nil {
		return Credentials{}, err
	}
	c.creds, c.fetched, c.valid = creds, now, true
	return creds, nil
}

// Invalidate makes the next Credentials call read the secret again (after X
// rejected the cached credentials, for instance).
func (c *SecretCache) Invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.valid = false
}

func (c *SecretCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
