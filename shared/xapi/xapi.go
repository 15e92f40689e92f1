// Package xapi is Pajarito's client of the X API v2, built on gotwi: reading the
// brand's mentions and keyword searches (the listener), and later posting replies
// and DMs (the reply sender). It captures X's rate-limit headers on every answer,
// can be pointed at any X-compatible server (X_API_BASE_URL), and loads the brand
// account's credentials from the environment or AWS Secrets Manager.
package xapi

import (
	"context"
	"fmt"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

// PageQuery asks for one page of a mentions timeline or a recent search.
type PageQuery struct {
	// SinceID returns only posts with a greater id (exclusive).
	SinceID string
	// StartTime, when SinceID is empty, bounds a first read to recent posts.
	StartTime time.Time
	// NextToken continues a paginated read.
	NextToken string
	// MaxResults is the page size (X allows 5–100 for mentions, 10–100 for search).
	MaxResults int
}

// Page is one page of posts, normalised.
type Page struct {
	// Envelopes are the page's posts as inbound-queue envelopes (Source mentions or
	// search), with the author's handle, followers and verified flag filled in from
	// the expansions. The brand's own posts and retweets are already dropped.
	Envelopes []care.Envelope
	// Read is the number of posts X returned (what X bills), dropped ones included.
	Read int
	// Dropped is how many of them were dropped, by reason.
	Dropped map[string]int
	// NewestID is the highest post id in the page ("" when empty): X's search meta
	// has no newest_id, so it is computed from the posts.
	NewestID string
	// NextToken is the token of the next page; "" on the last one.
	NextToken string
	// RateLimit is what X's x-rate-limit-* headers said.
	RateLimit RateLimit
}

// RateLimit is X's rate-limit state of one endpoint, from the x-rate-limit-limit,
// -remaining and -reset headers. Zero values mean the answer carried none.
type RateLimit struct {
	Limit     int
	Remaining int
	Reset     time.Time
}

// RateLimitedError is returned when X answers 429 Too Many Requests.
type RateLimitedError struct {
	Endpoint  string
	RateLimit RateLimit
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("xapi: %s: rate limited (429) until %s", e.Endpoint, e.RateLimit.Reset.UTC().Format(time.RFC3339))
}

// Reader reads posts from X.
type Reader interface {
	// Mentions reads the mentions timeline of the user (GET /2/users/{id}/mentions).
	Mentions(ctx context.Context, userID string, q PageQuery) (*Page, error)
	// SearchRecent runs a recent search (GET /2/tweets/search/recent).
	SearchRecent(ctx context.Context, query string, q PageQuery) (*Page, error)
}
