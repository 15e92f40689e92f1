package xapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	managetypes "github.com/michimani/gotwi/tweet/managetweet/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// Writes: the reply sender's side of X. Reply posts with gotwi's
// managetweet/types.CreateInput (POST /2/tweets); SendDM uses an input type of
// this package (gotwi has no DMs). Both go through the same call as the reads:
// OAuth 1.0a as the brand, X's rate-limit headers kept, errors mapped to
// *RateLimitedError, *APIError and *TransportError.
//
// X has no idempotency keys: a write that got no answer may or may not have
// created the post or DM. The error of a write whose request never left this
// process (no connection, refused, cancelled before sending) wraps ErrNotSent, so
// that the caller knows a retry cannot duplicate it (so do arguments refused before
// any request); any other *TransportError of a write is uncertain.

// Writer posts as the brand. *Client implements it.
type Writer interface {
	// Reply posts text as a public reply to post inReplyToID (POST /2/tweets).
	Reply(ctx context.Context, inReplyToID, text string) (*Sent, error)
	// Post posts text as a post of its own, a reply to nothing (POST
	// /2/tweets): a crisis's public statement.
	Post(ctx context.Context, text string) (*Sent, error)
	// SendDM sends text as a DM to user participantID (POST
	// /2/dm_conversations/with/{participant_id}/messages).
	SendDM(ctx context.Context, participantID, text string) (*Sent, error)
}

var _ Writer = (*Client)(nil)

// Sent is what X answered to a write.
type Sent struct {
	// ID is the new post's id, or the DM event's id.
	ID string
	// Text is the post's text as X stored it (posts only).
	Text string
	// ConversationID is the DM conversation's id (DMs only).
	ConversationID string
	// RateLimit is what X's x-rate-limit-* headers said.
	RateLimit RateLimit
}

// ErrNotSent is wrapped by the error of a write whose request was never written to
// X (refused arguments, or a *TransportError before the request left): retrying it
// cannot create a second post or DM.
var ErrNotSent = errors.New("the request was not sent to X")

// ErrUnsendable is wrapped by the error of a write that Pajarito refuses
// before calling X, for a reason no retry mends: an X Chat conversation
// whose key the brand does not hold, say.
var ErrUnsendable = errors.New("the message cannot be sent")

// createdPost is X's answer to POST /2/tweets.
type createdPost struct {
	Data struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	} `json:"data"`
}

func (*createdPost) HasPartialError() bool { return false }

// sentDM is X's answer to a DM.
type sentDM struct {
	Data struct {
		ConversationID string `json:"dm_conversation_id"`
		EventID        string `json:"dm_event_id"`
	} `json:"data"`
}

func (*sentDM) HasPartialError() bool { return false }

// dmInput is the request of POST /2/dm_conversations/with/{participant_id}/messages,
// implementing gotwi's parameters.
type dmInput struct {
	accessToken   string
	ParticipantID string `json:"-"`
	Text          string `json:"text"`
}

func (p *dmInput) SetAccessToken(token string) { p.accessToken = token }
func (p *dmInput) AccessToken() string         { return p.accessToken }
func (p *dmInput) ParameterMap() map[string]string {
	return map[string]string{}
}

func (p *dmInput) ResolveEndpoint(base string) string {
	return strings.Replace(base, ":participant_id", url.PathEscape(p.ParticipantID), 1)
}

func (p *dmInput) Body() (io.Reader, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(string(b)), nil
}

// Reply posts text as a public reply to post inReplyToID, as the brand.
func (c *Client) Reply(ctx context.Context, inReplyToID, text string) (*Sent, error) {
	if !care.IsID(inReplyToID) {
		return nil, fmt.Errorf("xapi: %s: the post replied to, %q, is not a decimal X id: %w", EndpointCreatePost, inReplyToID, ErrNotSent)
	}
	return c.createPost(ctx, inReplyToID, text)
}

// Post posts text as a post of its own, as the brand.
func (c *Client) Post(ctx context.Context, text string) (*Sent, error) {
	return c.createPost(ctx, "", text)
}

// createPost posts text, as a reply to inReplyToID unless it is "".
func (c *Client) createPost(ctx context.Context, inReplyToID, text string) (*Sent, error) {
	if strings.TrimSpace(text) == "" || !utf8.ValidString(text) {
		return nil, fmt.Errorf("xapi: %s: the text is empty or not UTF-8: %w", EndpointCreatePost, ErrNotSent)
	}
	in := &managetypes.CreateInput{Text: &text}
	if inReplyToID != "" {
		in.Reply = &managetypes.CreateInputReply{InReplyToTweetID: inReplyToID}
	}
	var out createdPost
	info, err := c.write(ctx, EndpointCreatePost, "/2/tweets", in, &out)
	if err != nil {
		return nil, err
	}
	if !care.IsID(out.Data.ID) {
		return nil, fmt.Errorf("xapi: %s: X answered %d without a post id", EndpointCreatePost, info.status)
	}
	c.log.DebugContext(ctx, "x post created", "endpoint", EndpointCreatePost, "id", out.Data.ID, "in_reply_to", inReplyToID,
		"rate_remaining", info.rateLimit.Remaining, "rate_reset", info.rateLimit.Reset)
	return &Sent{ID: out.Data.ID, Text: out.Data.Text, RateLimit: info.rateLimit}, nil
}

// SendDM sends text as a DM to user participantID, as the brand.
func (c *Client) SendDM(ctx context.Context, participantID, text string) (*Sent, error) {
	if !care.IsID(participantID) {
		return nil, fmt.Errorf("xapi: %s: the recipient, %q, is not a decimal X user id: %w", EndpointSendDM, participantID, ErrNotSent)
	}
	if participantID == c.brand.ID {
		return nil, fmt.Errorf("xapi: %s: the recipient %s is the brand itself: %w", EndpointSendDM, participantID, ErrNotSent)
	}
	if strings.TrimSpace(text) == "" || !utf8.ValidString(text) {
		return nil, fmt.Errorf("xapi: %s: the text is empty or not UTF-8: %w", EndpointSendDM, ErrNotSent)
	}
	if n := utf8.RuneCountInString(text); n > care.MaxDMLength {
		return nil, fmt.Errorf("xapi: %s: the text is %d characters long; X accepts at most %d: %w", EndpointSendDM, n, care.MaxDMLength, ErrNotSent)
	}
	var out sentDM
	info, err := c.write(ctx, EndpointSendDM, "/2/dm_conversations/with/:participant_id/messages",
		&dmInput{ParticipantID: participantID, Text: text}, &out)
	if err != nil {
		return nil, err
	}
	if !care.IsID(out.Data.EventID) {
		return nil, fmt.Errorf("xapi: %s: X answered %d without a DM event id", EndpointSendDM, info.status)
	}
	c.log.DebugContext(ctx, "x DM sent", "endpoint", EndpointSendDM, "id", out.Data.EventID,
		"rate_remaining", info.rateLimit.Remaining, "rate_reset", info.rateLimit.Reset)
	return &Sent{ID: out.Data.EventID, ConversationID: out.Data.ConversationID, RateLimit: info.rateLimit}, nil
}

// write makes a POST as the brand, noting whether the request was written: a
// transport failure before that wraps ErrNotSent.
func (c *Client) write(ctx context.Context, endpoint, path string, in params, out interface{ HasPartialError() bool }) (*callInfo, error) {
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(w httptrace.WroteRequestInfo) {
			if w.Err == nil {
				wrote.Store(true)
			}
		},
	})
	info, err := c.call(ctx, c.user, endpoint, http.MethodPost, path, in, out)
	var te *TransportError
	if errors.As(err, &te) && !wrote.Load() {
		return info, fmt.Errorf("%w (%w)", err, ErrNotSent)
	}
	return info, err
}
