package xapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"golang.org/x/oauth2"

	"github.com/pajarito-care/pajarito/shared/care"
)

// OAuth 2.0 user context: X Chat's routes and events need it (Pajarito's other
// calls use OAuth 1.0a). The brand signs in once with the authorization code
// flow with PKCE (pajarito x auth); its tokens are kept with the other
// credentials, in the secret.
const (
	OAuth2AuthorizeURL = "https://x.com/i/oauth2/authorize"
	OAuth2TokenURL     = "https://api.x.com/2/oauth2/token"
)

// OAuth2Scopes are the scopes Pajarito asks the brand for: X Chat's (dm.read,
// dm.write), the reads they rely on, and offline.access for a refresh token.
var OAuth2Scopes = []string{"dm.read", "dm.write", "tweet.read", "users.read", "offline.access"}

// OAuth2Config returns the OAuth 2.0 configuration of the X app clientID:
// clientSecret is "" for a public client (PKCE alone), the app's OAuth 2.0
// client secret for a confidential one; redirect is the callback URL
// registered in the app's settings; baseURL, when set, serves both endpoints
// (an X-compatible server, the local fake).
func OAuth2Config(clientID, clientSecret, redirect, baseURL string) *oauth2.Config {
	ep := oauth2.Endpoint{AuthURL: OAuth2AuthorizeURL, TokenURL: OAuth2TokenURL, AuthStyle: oauth2.AuthStyleInParams}
	if baseURL = strings.TrimRight(baseURL, "/"); baseURL != "" {
		ep.AuthURL, ep.TokenURL = baseURL+"/i/oauth2/authorize", baseURL+"/2/oauth2/token"
	}
	if clientSecret != "" {
		ep.AuthStyle = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{ClientID: clientID, ClientSecret: clientSecret, Endpoint: ep, RedirectURL: redirect, Scopes: OAuth2Scopes}
}

// OAuth2Token is the brand's OAuth 2.0 user-context token, as it is kept in the
// secret beside the OAuth 1.0a credentials (its JSON names are the secret's
// keys).
type OAuth2Token struct {
	AccessToken  string    `json:"oauth2_access_token"`
	RefreshToken string    `json:"oauth2_refresh_token,omitempty"`
	Expiry       time.Time `json:"oauth2_expires_at"`
	Scope        string    `json:"oauth2_scope,omitempty"`
	ClientID     string    `json:"oauth2_client_id"`
	// ClientSecret is a confidential app's OAuth 2.0 client secret, which the
	// refresh needs; empty for a public app.
	ClientSecret string `json:"oauth2_client_secret,omitempty"`
	// UserID is the user the token acts for: the brand.
	UserID string `json:"oauth2_user_id"`
}

// NewOAuth2Token returns what Pajarito keeps of tok, issued to clientID for
// userID.
func NewOAuth2Token(tok *oauth2.Token, clientID, userID string) OAuth2Token {
	scope, _ := tok.Extra("scope").(string)
	return OAuth2Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry.UTC(),
		Scope: scope, ClientID: clientID, UserID: userID}
}

// MissingScopes returns the scopes of OAuth2Scopes the token was not granted
// (none when X did not say which it granted).
func (t OAuth2Token) MissingScopes() []string {
	if t.Scope == "" {
		return nil
	}
	granted := strings.Fields(t.Scope)
	var missing []string
	for _, s := range OAuth2Scopes {
		found := false
		for _, g := range granted {
			found = found || g == s
		}
		if !found {
			missing = append(missing, s)
		}
	}
	return missing
}

// OAuth2User returns the user an OAuth 2.0 access token acts for (GET
// /2/users/me), through hc (nil: http.DefaultClient); baseURL "" is X. Its
// errors are those of RegisterPublicKeys.
func OAuth2User(ctx context.Context, hc *http.Client, baseURL, accessToken string) (*User, error) {
	var out meAnswer
	if _, err := oauth2Call(ctx, hc, baseURL, accessToken, EndpointMe, http.MethodGet, "/2/users/me", nil, &out); err != nil {
		return nil, err
	}
	if !care.IsID(out.Data.ID) {
		return nil, fmt.Errorf("xapi: %s with the OAuth 2.0 token: X answered without a user id", EndpointMe)
	}
	return &User{ID: out.Data.ID, Username: out.Data.Username, Name: out.Data.Name}, nil
}

// SecretsReadWriter is the part of the AWS Secrets Manager client that reads
// and writes secret values; *secretsmanager.Client implements it.
type SecretsReadWriter interface {
	SecretsGetter
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

// SaveOAuth2 writes tok into the secret secretID, keeping its other keys (the
// OAuth 1.0a credentials): a new version of the secret. The error never holds
// the secret's values.
func SaveOAuth2(ctx context.Context, sm SecretsReadWriter, secretID string, tok OAuth2Token) error {
	add, err := json.Marshal(tok)
	if err != nil {
		return fmt.Errorf("xapi: %w", err)
	}
	var fields map[string]any
	if err := json.Unmarshal(add, &fields); err != nil {
		return fmt.Errorf("xapi: %w", err)
	}
	return MergeSecret(ctx, sm, secretID, fields)
}

// Keys of the secret that hold the brand's X Chat private keys (pajarito
// xchat setup), beside the credentials and the OAuth 2.0 token.
const (
	// SecretXChatPrivateKeys is the base64 of the current private keys, in the
	// SDK's exported form (xchat.ParseIdentityBase64 reads it).
	SecretXChatPrivateKeys = "xchat_private_keys"
	// SecretXChatKeyVersion is the public key version X registered them under.
	SecretXChatKeyVersion = "xchat_key_version"
	// SecretXChatPreviousKeysPrefix, followed by a key version, holds the
	// private keys a rotation replaced: messages encrypted to that version
	// are readable only with them.
	SecretXChatPreviousKeysPrefix = "xchat_private_keys_"
)

// MergeSecret sets the keys of set in the JSON object the secret secretID
// holds, keeping its other keys, as a new version of the secret; a nil value
// removes its key. The error never holds the secret's values.
func MergeSecret(ctx context.Context, sm SecretsReadWriter, secretID string, set map[string]any) error {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)})
	if err != nil {
		return fmt.Errorf("xapi: read secret %s: %w", secretID, err)
	}
	fields := map[string]any{}
	if s := aws.ToString(out.SecretString); s != "" {
		if err := json.Unmarshal([]byte(s), &fields); err != nil || fields == nil {
			return fmt.Errorf("xapi: secret %s is not a JSON object, so nothing can be added to it: put the X credentials in it as a JSON object first (README: Put the X credentials in the secret)", secretID)
		}
	}
	for k, v := range set {
		if v == nil {
			delete(fields, k)
		} else {
			fields[k] = v
		}
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("xapi: %w", err)
	}
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(secretID), SecretString: aws.String(string(body))}); err != nil {
		return fmt.Errorf("xapi: write secret %s: %w", secretID, err)
	}
	return nil
}

// ErrOAuth2Wrong is wrapped by the error of a sign-in as another account than
// the brand.
var ErrOAuth2Wrong = errors.New("signed in as another account than the brand")

// XChatFields reads the X Chat keys of the secret secretID (the fields that
// start with "xchat_", as pajarito xchat setup keeps them). Errors name the
// secret, never a value.
func XChatFields(ctx context.Context, sm SecretsGetter, secretID string) (map[string]string, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)})
	if err != nil {
		return nil, fmt.Errorf("xapi: read secret %s: %w%s", secretID, err, secretHint(err, secretID))
	}
	var fields map[string]any
	if json.Unmarshal([]byte(aws.ToString(out.SecretString)), &fields) != nil {
		return nil, fmt.Errorf("xapi: secret %s is not a JSON object: put the X credentials in it first (README: Put the X credentials in the secret)", secretID)
	}
	held := map[string]string{}
	for k, v := range fields {
		if str, ok := v.(string); ok && strings.HasPrefix(k, "xchat_") {
			held[k] = str
		}
	}
	return held, nil
}
