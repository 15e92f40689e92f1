// Package xapi is Pajarito's client of the X API v2, built on gotwi: reading the
// brand's mentions and keyword searches (the listener), and later posting replies
// and DMs (the reply sender). It captures X's rate-limit headers on every answer,
// can be pointed at any X-compatible server (X_API_BASE_URL), and loads the brand
// account's credentials from the environment or AWS Secrets Manager.
//
// # Credentials
//
// Pajarito acts as the brand account with OAuth 1.0a user context. Locally the
// credentials come from the environment (CredentialsFromEnv): X_API_KEY,
// X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET and optionally
// X_BEARER_TOKEN. In AWS they come from one Secrets Manager secret
// (CredentialsFromSecret, cached by SecretCache), a JSON object:
//
//	{
//	  "api_key":             "the app's API key (consumer key)",
//	  "api_secret":          "the app's API key secret (consumer secret)",
//	  "access_token":        "the brand account's access token (<user id>-…)",
//	  "access_token_secret": "the brand account's access token secret",
//	  "bearer_token":        "optional: the app's bearer token",
//	  "consumer_secret":     "optional: the webhook HMAC key, when not api_secret"
//	}
//
// X signs webhooks with the app's consumer secret, so the webhook key is
// api_secret unless consumer_secret is given (Credentials.WebhookSecret).
//
// Commands add to the same object, keeping its other keys (MergeSecret):
// pajarito x auth the brand's OAuth 2.0 token (OAuth2Token's oauth2_* keys),
// and pajarito xchat setup the brand's X Chat private keys
// (SecretXChatPrivateKeys, SecretXChatKeyVersion and, for keys a rotation
// replaced, SecretXChatPreviousKeysPrefix + their version). RegisterPublicKeys
// and PublicKeys are X Chat's key registry, with the OAuth 2.0 token.
//
// # Reads
//
// Mentions and SearchRecent ask X for the post fields and expansions Pajarito
// needs (tweet.fields author_id, created_at, conversation_id, lang,
// in_reply_to_user_id, referenced_tweets, entities, note_tweet, public_metrics;
// expansions author_id, referenced_tweets.id, referenced_tweets.id.author_id;
// user.fields username, name, public_metrics, verified) and normalise the page with
// xwebhook.ParsePosts, the normaliser of the webhook's v2 posts, so that a post
// reads the same whichever route brought it. gotwi builds the request and signs it;
// the answer is decoded by this package, keeping X's JSON byte for byte (gotwi's
// typed answers drop fields and lack meta.newest_id on searches).
//
// The owned reads, as the brand: Me (GET /2/users/me, the cheap call that checks
// that X accepts the credentials), UserPosts (GET /2/users/{id}/tweets, a user's
// own posts, normalised like the mentions, with Source SourceUserPosts) and
// DMEvents (GET /2/dm_conversations/with/{participant_id}/dm_events, the messages
// of a one-to-one DM conversation).
//
// # Errors
//
// A 429 is a *RateLimitedError with the time the window resets. Other error
// answers are *APIError with X's title and detail; 5xx (and network failures) are
// retryable (IsRetryable), 4xx are not, and a 401 explains which credentials to
// check (errors.Is(err, ErrUnauthorized)).
package xapi

import (
	"context"
	"fmt"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

// PageQuery asks for one page of a mentions timeline, a user's posts, a recent
// search or a DM conversation.
type PageQuery struct {
	// SinceID returns only posts with a greater id (exclusive).
	SinceID string
	// StartTime, when SinceID is empty, bounds a first read to recent posts. A
	// search's start is raised to X's seven-day window when older.
	StartTime time.Time
	// NextToken continues a paginated read.
	NextToken string
	// MaxResults is the page size (X allows 5–100 for mentions and user posts,
	// 10–100 for search, 1–100 for DM events); values outside are clamped, and 0
	// means 100 (X bills per post, not per call).
	MaxResults int
}

// Page is one page of posts, normalised.
type Page struct {
	// Envelopes are the page's posts as inbound-queue envelopes (Source mentions,
	// search or SourceUserPosts), with the author's handle, followers and verified
	// flag filled in from the expansions. Retweets and the brand's own posts that
	// answer no customer are already dropped; its replies are outbound messages.
	Envelopes []care.Envelope
	// Read is the number of posts X returned (what X bills), dropped ones included.
	Read int
	// Dropped is how many of them were dropped, by reason.
	Dropped map[string]int
	// Own are the brand's own posts that answer no customer, dropped from
	// Envelopes (xwebhook.Result.Own): its crisis statements and their
	// updates.
	Own []care.Message
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

// RateLimitedError is returned when X answers 429 Too Many Requests. RateLimit.Reset
// is when to try again: X's x-rate-limit-reset, or 15 minutes after the answer when
// X sent none.
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
