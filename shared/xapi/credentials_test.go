package xapi_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/pajarito-care/pajarito/shared/xapi"
)

var fullEnv = map[string]string{
	"X_API_KEY":             "ck-SECRET-VALUE-1",
	"X_API_SECRET":          "cs-SECRET-VALUE-2",
	"X_ACCESS_TOKEN":        brandID + "-SECRET-VALUE-3",
	"X_ACCESS_TOKEN_SECRET": "ats-SECRET-VALUE-4",
}

func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestCredentialsFromEnv(t *testing.T) {
	withExtras := map[string]string{"X_BEARER_TOKEN": "AAAA", "X_CONSUMER_SECRET": "webhook-key"}
	for k, v := range fullEnv {
		withExtras[k] = " " + v + "\n" // pasted with blanks
	}
	c, err := xapi.CredentialsFromEnv(getenv(withExtras))
	if err != nil {
		t.Fatal(err)
	}
	if c.APIKey != fullEnv["X_API_KEY"] || c.AccessTokenSecret != fullEnv["X_ACCESS_TOKEN_SECRET"] || c.BearerToken != "AAAA" ||
		c.WebhookSecret() != "webhook-key" || c.Source != "environment" {
		t.Errorf("credentials = %+v", c)
	}
	if c, _ := xapi.CredentialsFromEnv(getenv(fullEnv)); c.WebhookSecret() != fullEnv["X_API_SECRET"] {
		t.Errorf("webhook secret defaults to the API secret")
	}

	wants := map[string]string{
		"X_API_KEY":             "X_API_KEY is not set: the app's API key (OAuth 1.0a consumer key), from the X developer portal → your app → Keys and tokens",
		"X_API_SECRET":          "X_API_SECRET is not set: the app's API key secret",
		"X_ACCESS_TOKEN":        "X_ACCESS_TOKEN is not set: the brand account's OAuth 1.0a access token, from the X developer portal",
		"X_ACCESS_TOKEN_SECRET": "X_ACCESS_TOKEN_SECRET is not set: the brand account's OAuth 1.0a access token secret, from the X developer portal → your app → Keys and tokens",
	}
	for missing, want := range wants {
		t.Run(missing, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range fullEnv {
				if k != missing {
					env[k] = v
				}
			}
			_, err := xapi.CredentialsFromEnv(getenv(env))
			if err == nil || !strings.Contains(err.Error(), want) || errors.Is(err, xapi.ErrNoCredentials) {
				t.Fatalf("err = %v, want %q", err, want)
			}
			for other := range wants {
				if other != missing && strings.Contains(err.Error(), other+" is not set") {
					t.Errorf("error names %s, which is set", other)
				}
			}
			if strings.Contains(err.Error(), "SECRET-VALUE") {
				t.Errorf("error shows a credential: %v", err)
			}
		})
	}

	_, err = xapi.CredentialsFromEnv(getenv(nil))
	if !errors.Is(err, xapi.ErrNoCredentials) {
		t.Errorf("nothing set: %v, want ErrNoCredentials", err)
	}
	for name := range wants {
		if !strings.Contains(err.Error(), name+" is not set") {
			t.Errorf("nothing set: the error does not name %s", name)
		}
	}
}

// secrets is a stand-in for AWS Secrets Manager (which has no local emulator here):
// it serves one secret string and counts the reads.
type secrets struct {
	value *string
	err   error
	calls atomic.Int32
	delay time.Duration
}

func (s *secrets) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	s.calls.Add(1)
	time.Sleep(s.delay)
	if s.err != nil {
		return nil, s.err
	}
	return &secretsmanager.GetSecretValueOutput{Name: in.SecretId, SecretString: s.value}, nil
}

const goodSecret = `{"api_key":"ck-SECRET-VALUE-1","api_secret":"cs-SECRET-VALUE-2",
	"access_token":"1590000000000000001-SECRET-VALUE-3","access_token_secret":"ats-SECRET-VALUE-4","bearer_token":"AAAA"}`

func TestCredentialsFromSecret(t *testing.T) {
	c, err := xapi.CredentialsFromSecret(context.Background(), &secrets{value: aws.String(goodSecret)}, "pajarito/x")
	if err != nil {
		t.Fatal(err)
	}
	if c.APIKey != "ck-SECRET-VALUE-1" || c.BearerToken != "AAAA" || c.WebhookSecret() != "cs-SECRET-VALUE-2" || c.Source != "secret pajarito/x" {
		t.Errorf("credentials = %+v", c)
	}

	cases := []struct {
		name string
		src  *secrets
		want []string
	}{
		{"not JSON", &secrets{value: aws.String("api_key=ck-SECRET-VALUE-1")},
			[]string{`secret "pajarito/x" is not a JSON object (syntax error at byte 1)`, `"access_token_secret"`}},
		{"JSON array", &secrets{value: aws.String(`["ck-SECRET-VALUE-1"]`)}, []string{`secret "pajarito/x" is not a JSON object`}},
		{"missing keys", &secrets{value: aws.String(`{"api_key":"ck-SECRET-VALUE-1","api_secret":"cs-SECRET-VALUE-2","access_token":""}`)},
			[]string{`secret "pajarito/x" lacks "access_token": the brand account's OAuth 1.0a access token`,
				`secret "pajarito/x" lacks "access_token_secret"`}},
		{"not a string", &secrets{value: aws.String(`{"api_key":12,"api_secret":"a","access_token":"b","access_token_secret":"c"}`)},
			[]string{`"api_key" is not a JSON string`}},
		{"binary", &secrets{}, []string{`secret "pajarito/x" holds binary data`}},
		{"not found", &secrets{err: &types.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret.")}},
			[]string{`reading the X credentials secret "pajarito/x"`, "does not exist in this account and region", "create-secret --name pajarito/x"}},
		{"access denied", &secrets{err: &smithyError{code: "AccessDeniedException"}}, []string{"secretsmanager:GetSecretValue"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := xapi.CredentialsFromSecret(context.Background(), tc.src, "pajarito/x")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "SECRET-VALUE") {
				t.Errorf("error shows a credential: %v", err)
			}
		})
	}
}

// smithyError is an AWS API error of any code.
type smithyError struct{ code string }

func (e *smithyError) Error() string                 { return "api error " + e.code }
func (e *smithyError) ErrorCode() string             { return e.code }
func (e *smithyError) ErrorMessage() string          { return e.code }
func (e *smithyError) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }

func TestSecretCache(t *testing.T) {
	src := &secrets{value: aws.String(goodSecret)}
	now := t0
	cache := &xapi.SecretCache{Client: src, SecretID: "pajarito/x", Now: func() time.Time { return now }}
	ctx := context.Background()
	read := func() xapi.Credentials {
		t.Helper()
		c, err := cache.Credentials(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	read()
	now = now.Add(xapi.DefaultSecretTTL - time.Second)
	if read(); src.calls.Load() != 1 {
		t.Errorf("within the TTL: %d reads, want 1", src.calls.Load())
	}
	now = now.Add(time.Second)
	src.value = aws.String(strings.Replace(goodSecret, "ck-SECRET-VALUE-1", "rotated-key", 1))
	if c := read(); src.calls.Load() != 2 || c.APIKey != "rotated-key" {
		t.Errorf("after the TTL: %d reads, key rotated: %v", src.calls.Load(), c.APIKey == "rotated-key")
	}
	cache.Invalidate()
	if read(); src.calls.Load() != 3 {
		t.Errorf("after Invalidate: %d reads, want 3", src.calls.Load())
	}

	src.err = errors.New("throttled")
	now = now.Add(time.Hour)
	if _, err := cache.Credentials(ctx); err == nil {
		t.Error("a failed read returned no error")
	}
	src.err = nil
	if read(); src.calls.Load() != 5 {
		t.Errorf("a failed read is not cached: %d reads, want 5", src.calls.Load())
	}

	// Concurrent callers of an expired cache share one read.
	short := &xapi.SecretCache{Client: &secrets{value: aws.String(goodSecret), delay: 20 * time.Millisecond}, SecretID: "pajarito/x", TTL: time.Minute}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := short.Credentials(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := short.Client.(*secrets).calls.Load(); n != 1 {
		t.Errorf("20 concurrent callers made %d reads, want 1", n)
	}
}
