package xapi

// X Chat's key registry: an account's public keys, which X serves to whoever
// encrypts to it. Both calls need the account's OAuth 2.0 user-context token
// (pajarito x auth), sent as a bearer token over plain net/http, like
// OAuth2User.
//
// Shapes, from docs.x.com (2026-08): "Add public key" (x-api/chat/add-public-
// key): POST /2/users/{id}/public_keys {"public_key":{identity_public_key_
// signature, public_key, public_key_fingerprint, registration_method,
// signing_public_key, signing_public_key_signature}, "version",
// "generate_version"} → {"data":{"version","error_code","token_map"}}; "Get
// user public keys": GET /2/users/{id}/public_keys → {"data":[{public_key,
// signing_public_key, identity_public_key_signature, public_key_version,
// juicebox_config}]}. One version of the page shows "data" as one object and
// the version as "version": both are read.
//
// Not documented, so assumed: that with generate_version X answers the version
// it assigned (else the one proposed is taken), and the meaning of error_code
// (any value is a refusal).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

// KeyRegistration is the public_key object of X Chat's key registration: an
// account's identity and signing public keys with the signatures that bind
// them, as the SDK builds it. It converts to and from xchat.Registration
// (xapi does not link the X Chat crypto, which only some callers need).
type KeyRegistration struct {
	IdentityPublicKeySignature string
	PublicKey                  string
	PublicKeyFingerprint       string
	RegistrationMethod         string
	SigningPublicKey           string
	SigningPublicKeySignature  string
}

// RegisteredKey is a public key version an account registered, as X serves it:
// the signing key, the identity key and the signing key's signature over the
// identity key. It converts to xchat.SigningKey, for a xchat.SigningKeySet.
type RegisteredKey struct {
	UserID                     string
	Version                    string
	PublicKey                  string
	IdentityPublicKey          string
	IdentityPublicKeySignature string
}

// Endpoints of X Chat's key registry, as named in errors.
const (
	EndpointAddPublicKey = "POST /2/users/:id/public_keys"
	EndpointPublicKeys   = "GET /2/users/:id/public_keys"
)

// publicKeyJSON is X's public_key object.
type publicKeyJSON struct {
	IdentityPublicKeySignature string `json:"identity_public_key_signature"`
	PublicKey                  string `json:"public_key"`
	PublicKeyFingerprint       string `json:"public_key_fingerprint,omitempty"`
	RegistrationMethod         string `json:"registration_method,omitempty"`
	SigningPublicKey           string `json:"signing_public_key"`
	SigningPublicKeySignature  string `json:"signing_public_key_signature,omitempty"`
	PublicKeyVersion           string `json:"public_key_version,omitempty"`
	Version                    string `json:"version,omitempty"`
}

// RegisterPublicKeys registers reg, the X Chat public keys of the user userID,
// with X (POST /2/users/{id}/public_keys) as that user, with its OAuth 2.0
// access token, through hc (nil: http.DefaultClient); baseURL "" is X. It asks
// X to assign the key version, proposing the time in milliseconds as the SDK
// does, and returns the version X registered. Errors are *APIError,
// *RateLimitedError or *TransportError (see IsRetryable), and never hold the
// token.
func RegisterPublicKeys(ctx context.Context, hc *http.Client, baseURL, accessToken, userID string, reg KeyRegistration) (string, error) {
	if !care.IsID(userID) {
		return "", fmt.Errorf("xapi: %s: user id %q is not a numeric X user id", EndpointAddPublicKey, userID)
	}
	proposed := strconv.FormatInt(time.Now().UnixMilli(), 10)
	body := struct {
		PublicKey       publicKeyJSON `json:"public_key"`
		Version         string        `json:"version"`
		GenerateVersion bool          `json:"generate_version"`
	}{
		PublicKey: publicKeyJSON{
			IdentityPublicKeySignature: reg.IdentityPublicKeySignature,
			PublicKey:                  reg.PublicKey,
			PublicKeyFingerprint:       reg.PublicKeyFingerprint,
			RegistrationMethod:         reg.RegistrationMethod,
			SigningPublicKey:           reg.SigningPublicKey,
			SigningPublicKeySignature:  reg.SigningPublicKeySignature,
		},
		Version: proposed, GenerateVersion: true,
	}
	var out struct {
		Data *struct {
			Version   string `json:"version"`
			ErrorCode string `json:"error_code"`
		} `json:"data"`
		problem
	}
	if _, err := oauth2Call(ctx, hc, baseURL, accessToken, EndpointAddPublicKey, http.MethodPost, "/2/users/"+userID+"/public_keys", body, &out); err != nil {
		return "", err
	}
	switch {
	case out.Data == nil:
		return "", fmt.Errorf("xapi: %s: X registered nothing: %s", EndpointAddPublicKey, problemText(out.problem, "its answer has no data"))
	case out.Data.ErrorCode != "":
		return "", fmt.Errorf("xapi: %s: X refused the keys: error_code %s", EndpointAddPublicKey, out.Data.ErrorCode)
	case out.Data.Version != "":
		return out.Data.Version, nil
	}
	return proposed, nil
}

// PublicKeys returns the X Chat public keys the user userID registered with X
// (GET /2/users/{id}/public_keys), as X lists them, read with an OAuth 2.0
// access token; none when the user has registered none. Each converts to a
// xchat.SigningKey for a xchat.SigningKeySet, whose Add checks its binding.
// Errors are those of RegisterPublicKeys.
func PublicKeys(ctx context.Context, hc *http.Client, baseURL, accessToken, userID string) ([]RegisteredKey, error) {
	if !care.IsID(userID) {
		return nil, fmt.Errorf("xapi: %s: user id %q is not a numeric X user id", EndpointPublicKeys, userID)
	}
	var out struct {
		Data json.RawMessage `json:"data"`
		problem
	}
	if _, err := oauth2Call(ctx, hc, baseURL, accessToken, EndpointPublicKeys, http.MethodGet, "/2/users/"+userID+"/public_keys", nil, &out); err != nil {
		return nil, err
	}
	var list []publicKeyJSON
	switch data := bytes.TrimSpace(out.Data); {
	case len(data) == 0 || string(data) == "null":
	case data[0] == '[':
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("xapi: %s: X's answer is not a list of keys: %w", EndpointPublicKeys, err)
		}
	default:
		var one publicKeyJSON
		if err := json.Unmarshal(data, &one); err != nil {
			return nil, fmt.Errorf("xapi: %s: X's answer is not a key: %w", EndpointPublicKeys, err)
		}
		list = []publicKeyJSON{one}
	}
	keys := make([]RegisteredKey, 0, len(list))
	for _, k := range list {
		if k.PublicKey == "" && k.SigningPublicKey == "" {
			continue
		}
		keys = append(keys, RegisteredKey{UserID: userID, Version: firstNonEmpty(k.PublicKeyVersion, k.Version),
			PublicKey: k.SigningPublicKey, IdentityPublicKey: k.PublicKey, IdentityPublicKeySignature: k.IdentityPublicKeySignature})
	}
	return keys, nil
}

// oauth2Call sends one request to X with the OAuth 2.0 bearer token and
// decodes its 2xx answer into out; it returns what the answer's
// x-rate-limit-* headers said.
func oauth2Call(ctx context.Context, hc *http.Client, baseURL, accessToken, endpoint, method, path string, body, out any) (RateLimit, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	if baseURL = strings.TrimRight(baseURL, "/"); baseURL == "" {
		baseURL = DefaultBaseURL
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return RateLimit{}, fmt.Errorf("xapi: %s: %w: %w", endpoint, ErrNotSent, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, baseURL+path, rd)
	if err != nil {
		return RateLimit{}, fmt.Errorf("xapi: %s: %w: %w", endpoint, ErrNotSent, err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return RateLimit{}, &TransportError{Endpoint: endpoint, Err: err}
	}
	defer resp.Body.Close()
	rl, _ := parseRateLimit(resp.Header)
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return rl, &TransportError{Endpoint: endpoint, Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return rl, oauth2APIError(endpoint, resp, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return rl, fmt.Errorf("xapi: %s: X's answer (HTTP %d) is not the JSON expected: %w", endpoint, resp.StatusCode, err)
	}
	return rl, nil
}

// oauth2APIError is the error of X's non-2xx answer to an OAuth 2.0 call,
// with the fix when known.
func oauth2APIError(endpoint string, resp *http.Response, body []byte) error {
	rl, _ := parseRateLimit(resp.Header)
	if resp.StatusCode == http.StatusTooManyRequests {
		if rl.Reset.IsZero() {
			rl.Reset = time.Now().Add(rateLimitFallback).UTC().Truncate(time.Second)
		}
		return &RateLimitedError{Endpoint: endpoint, RateLimit: rl}
	}
	e := &APIError{Endpoint: endpoint, StatusCode: resp.StatusCode, RateLimit: rl}
	var p problem
	if json.Unmarshal(body, &p) == nil {
		e.Title, e.Detail, e.Type = p.Title, p.Detail, p.Type
		for _, m := range p.Errors {
			if msg := firstNonEmpty(m.Message, m.Detail); msg != "" {
				e.Messages = append(e.Messages, msg)
			}
		}
	} else if len(body) > 0 {
		e.Messages = []string{strings.TrimSpace(string(body[:min(len(body), 300)]))}
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		e.Hint = "X rejected the OAuth 2.0 token (expired or revoked): sign the brand in again with pajarito x auth"
	case http.StatusForbidden:
		e.Hint = "X Chat's key routes take the account's own OAuth 2.0 user-context token (pajarito x auth, as that account) with the dm.read and dm.write scopes"
	}
	return e
}

// problemText is X's problem as one line, or fallback when it says nothing.
func problemText(p problem, fallback string) string {
	parts := []string{p.Title, p.Detail}
	for _, m := range p.Errors {
		parts = append(parts, firstNonEmpty(m.Message, m.Detail))
	}
	var out []string
	for _, s := range parts {
		if s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return fallback
	}
	return strings.Join(out, "; ")
}
