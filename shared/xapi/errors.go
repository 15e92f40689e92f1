package xapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrUnauthorized matches (errors.Is) an *APIError of a 401 answer: X rejected the
// credentials.
var ErrUnauthorized = errors.New("xapi: X rejected the credentials")

// APIError is an error answer of X other than 429 (see RateLimitedError).
type APIError struct {
	Endpoint   string // e.g. EndpointMentions
	StatusCode int
	// Title, Detail and Type are X's problem fields; Messages the messages of its
	// "errors" array.
	Title, Detail, Type string
	Messages            []string
	// Hint says what to do about it, when known (a 401's credentials).
	Hint string
	// RateLimit is what the answer's x-rate-limit-* headers said.
	RateLimit RateLimit
}

func (e *APIError) Error() string {
	var b strings.Builder
	status := strings.TrimSpace(fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode)))
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		fmt.Fprintf(&b, "xapi: %s: X rejected the credentials (%s)", e.Endpoint, status)
	case e.Retryable():
		fmt.Fprintf(&b, "xapi: %s: X answered %s (retryable)", e.Endpoint, status)
	default:
		fmt.Fprintf(&b, "xapi: %s: X answered %s", e.Endpoint, status)
	}
	var parts []string
	for _, s := range append([]string{e.Title, e.Detail}, e.Messages...) {
		if s != "" && !containsFold(parts, s) {
			parts = append(parts, s)
		}
	}
	if len(parts) > 0 {
		b.WriteString(": " + strings.Join(parts, "; "))
	}
	if e.Hint != "" {
		b.WriteString(": " + e.Hint)
	}
	return b.String()
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// Is makes errors.Is(err, ErrUnauthorized) true for a 401.
func (e *APIError) Is(target error) bool {
	return target == ErrUnauthorized && e.StatusCode == http.StatusUnauthorized
}

// Retryable reports whether the same request may succeed later: X's 5xx answers.
func (e *APIError) Retryable() bool { return e.StatusCode >= 500 }

// DuplicateContent reports whether X refused a post because the account has
// posted the same text already (403 "You are not allowed to create a Tweet with
// duplicate content."): identical texts to different customers are refused too.
func (e *APIError) DuplicateContent() bool {
	if e.StatusCode != http.StatusForbidden {
		return false
	}
	for _, s := range append([]string{e.Detail, e.Title}, e.Messages...) {
		if strings.Contains(strings.ToLower(s), "duplicate content") {
			return true
		}
	}
	return false
}

// TransportError is a request that got no answer from X (connection refused,
// timeout, reset).
type TransportError struct {
	Endpoint string
	Err      error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("xapi: %s: no answer from X: %v", e.Endpoint, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// IsRetryable reports whether err is worth retrying later: a 429 (after its
// reset), a 5xx, or a request that got no answer — unless the caller's context
// was cancelled.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var rl *RateLimitedError
	var api *APIError
	var te *TransportError
	switch {
	case errors.As(err, &rl):
		return true
	case errors.As(err, &api):
		return api.Retryable()
	case errors.As(err, &te):
		return true
	}
	return false
}
