package xapi

// Owned reads: what the brand reads about itself, with its user context (OAuth
// 1.0a), as documented on docs.x.com (2026-08):
//   - "Users lookup": GET /2/users/me → {"data":{"id","name","username"}}, user
//     context only, 75 requests per 15 minutes per user.
//   - "User Posts timeline": GET /2/users/{id}/tweets, the parameters of the
//     mentions timeline (since_id, until_id, start_time, end_time, max_results
//     5–100, pagination_token, fields and expansions) plus exclude; the answer is a
//     page of posts like the mentions'. gotwi's timeline/types.ListTweetsInput.
//   - "Direct Messages lookup": GET /2/dm_conversations/with/{participant_id}/
//     dm_events → {"data":[{"id","event_type","text","created_at","sender_id",
//     "dm_conversation_id"}],"meta":{"result_count","next_token"}}, user context
//     only, max_results 1–100 (default 100), pagination_token (16 characters or
//     more), event_types, dm_event.fields (id, text and event_type by default;
//     participant_ids belongs to ParticipantsJoin/Leave events), expansions. It has
//     no since_id or start_time. gotwi lacks it: the request is a pathRequest.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	timelinetypes "github.com/michimani/gotwi/tweet/timeline/types"
	userlookuptypes "github.com/michimani/gotwi/user/userlookup/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// SourceUserPosts is the Source of the envelopes of UserPosts: a read of a user's
// own posts (X's User Posts timeline).
const SourceUserPosts care.Source = "user_posts"

// User is an X account.
type User struct {
	ID string
	// Username is the handle, without "@".
	Username string
	// Name is the display name.
	Name string
}

// meAnswer is X's answer to GET /2/users/me.
type meAnswer struct {
	dataAnswer
	Data struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
	} `json:"data"`
}

// Me returns the user the credentials act for (GET /2/users/me): the cheapest
// call that tells whether X accepts them. When X refuses them (401) the error is
// an *APIError matching ErrUnauthorized whose message names the credentials to
// check and how to regenerate them. The caller compares the user with the brand.
func (c *Client) Me(ctx context.Context) (*User, error) {
	var out meAnswer
	info, err := c.call(ctx, c.user, EndpointMe, http.MethodGet, "/2/users/me", &userlookuptypes.GetMeInput{}, &out)
	if err != nil {
		return nil, err
	}
	if !care.IsID(out.Data.ID) {
		return nil, fmt.Errorf("xapi: %s: X answered %d without a user id", EndpointMe, info.status)
	}
	u := &User{ID: out.Data.ID, Username: out.Data.Username, Name: out.Data.Name}
	c.log.DebugContext(ctx, "x read", "endpoint", EndpointMe, "id", u.ID, "username", u.Username,
		"rate_remaining", info.rateLimit.Remaining, "rate_reset", info.rateLimit.Reset)
	return u, nil
}

// UserPosts reads one page of the posts userID wrote (GET /2/users/{id}/tweets,
// X's User Posts timeline), newest first, with the brand's user context. For the
// brand it returns its replies to customers as outbound messages (InReplyToID
// set), those posted through Reply included; its posts that answer no customer
// and retweets are dropped and counted in Page.Dropped. SinceID, StartTime (when
// SinceID is empty), NextToken and MaxResults (5–100) are sent as X documents.
func (c *Client) UserPosts(ctx context.Context, userID string, q PageQuery) (*Page, error) {
	start, err := timelineStart(EndpointUserPosts, userID, q)
	if err != nil {
		return nil, err
	}
	in := &timelinetypes.ListTweetsInput{
		ID:              userID,
		SinceID:         q.SinceID,
		StartTime:       start,
		PaginationToken: q.NextToken,
		MaxResults:      timelinetypes.ListMaxResults(pageSize(q.MaxResults, minUserPostsPage)),
		Expansions:      readExpansions,
		TweetFields:     readTweetFields,
		UserFields:      readUserFields,
	}
	return c.readPage(ctx, c.user, EndpointUserPosts, "/2/users/:id/tweets", in, SourceUserPosts)
}

// dmEventFields are the DmEvent fields DMEvents asks for.
const dmEventFields = "id,text,created_at,sender_id,dm_conversation_id,participant_ids,event_type"

// dmMessageCreate is the event_type of a message.
const dmMessageCreate = "MessageCreate"

// DMEvent is one message of a one-to-one DM conversation (a MessageCreate event).
type DMEvent struct {
	// ID is the DM event id.
	ID   string
	Text string
	// CreatedAt is zero when X's answer lacks it.
	CreatedAt time.Time
	// SenderID wrote the message; RecipientID is the other participant (the brand
	// or the customer).
	SenderID    string
	RecipientID string
	// ConversationID is X's dm_conversation_id ("<lower id>-<higher id>").
	ConversationID string
	// Raw is the event's JSON as X sent it.
	Raw json.RawMessage
}

// DMPage is one page of a DM conversation's events.
type DMPage struct {
	// Events are the page's messages, newest first, within PageQuery.SinceID and
	// StartTime.
	Events []DMEvent
	// Read is the number of events X returned, those outside the query's bounds
	// included.
	Read int
	// NewestID is the highest id of the events within the bounds ("" when none).
	NewestID string
	// NextToken is the token of the next page; "" on the last one, and once the page
	// reached SinceID or StartTime.
	NextToken string
	// RateLimit is what X's x-rate-limit-* headers said.
	RateLimit RateLimit
}

// dmEventsAnswer is X's page of DM events.
type dmEventsAnswer struct {
	dataAnswer
	Data []json.RawMessage `json:"data"`
	Meta struct {
		ResultCount int    `json:"result_count"`
		NextToken   string `json:"next_token"`
	} `json:"meta"`
}

// dmEventJSON is the part of a DmEvent DMEvents reads.
type dmEventJSON struct {
	ID             string `json:"id"`
	EventType      string `json:"event_type"`
	Text           string `json:"text"`
	CreatedAt      string `json:"created_at"`
	SenderID       string `json:"sender_id"`
	ConversationID string `json:"dm_conversation_id"`
}

// DMEvents reads one page of the brand's one-to-one DM conversation with user
// participantID (GET /2/dm_conversations/with/{participant_id}/dm_events), newest
// first: the DMs the brand sent (SendDM included) and received. MaxResults is
// 1–100, NextToken continues a read. X's endpoint has no since_id or start_time:
// DMEvents applies SinceID and StartTime to the page itself, and ends the
// pagination once a page reaches them.
func (c *Client) DMEvents(ctx context.Context, participantID string, q PageQuery) (*DMPage, error) {
	if !care.IsID(participantID) {
		return nil, fmt.Errorf("xapi: %s: the participant, %q, is not a decimal X user id", EndpointDMEvents, participantID)
	}
	if participantID == c.brand.ID {
		return nil, fmt.Errorf("xapi: %s: the participant %s is the brand itself: a one-to-one conversation is with another user", EndpointDMEvents, participantID)
	}
	if q.SinceID != "" && !care.IsID(q.SinceID) {
		return nil, fmt.Errorf("xapi: %s: since id %q is not a decimal X id", EndpointDMEvents, q.SinceID)
	}
	query := map[string]string{
		"dm_event.fields": dmEventFields,
		"event_types":     dmMessageCreate,
		"max_results":     strconv.Itoa(pageSize(q.MaxResults, minDMPage)),
	}
	if q.NextToken != "" {
		query["pagination_token"] = q.NextToken
	}
	in := &pathRequest{path: map[string]string{"participant_id": participantID}, query: query}
	var out dmEventsAnswer
	info, err := c.call(ctx, c.user, EndpointDMEvents, http.MethodGet, "/2/dm_conversations/with/:participant_id/dm_events", in, &out)
	if err != nil {
		return nil, err
	}

	page := &DMPage{Read: len(out.Data), NextToken: out.Meta.NextToken, RateLimit: info.rateLimit}
	reached := false
	for i, raw := range out.Data {
		var ev dmEventJSON
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("xapi: %s: event %d of the page is not a DM event: %w", EndpointDMEvents, i, err)
		}
		if !care.IsID(ev.ID) {
			return nil, fmt.Errorf("xapi: %s: event %d of the page has no decimal id (%q)", EndpointDMEvents, i, ev.ID)
		}
		var created time.Time
		if ev.CreatedAt != "" {
			if created, err = time.Parse(time.RFC3339Nano, ev.CreatedAt); err != nil {
				return nil, fmt.Errorf("xapi: %s: DM event %s: created_at: %w", EndpointDMEvents, ev.ID, err)
			}
		}
		if q.SinceID != "" && care.CompareIDs(ev.ID, q.SinceID) <= 0 ||
			q.SinceID == "" && !q.StartTime.IsZero() && !created.IsZero() && created.Before(q.StartTime) {
			reached = true
			continue
		}
		page.NewestID = care.MaxID(page.NewestID, ev.ID)
		if ev.EventType != dmMessageCreate {
			continue
		}
		recipient := ""
		switch ev.SenderID {
		case participantID:
			recipient = c.brand.ID
		case c.brand.ID:
			recipient = participantID
		}
		page.Events = append(page.Events, DMEvent{
			ID: ev.ID, Text: ev.Text, CreatedAt: created, SenderID: ev.SenderID, RecipientID: recipient,
			ConversationID: ev.ConversationID, Raw: raw,
		})
	}
	if reached {
		page.NextToken = ""
	}
	if len(out.Errors) > 0 {
		c.log.WarnContext(ctx, "x partial errors", "endpoint", EndpointDMEvents, "count", len(out.Errors),
			"title", out.Errors[0].Title, "detail", out.Errors[0].Detail)
	}
	c.log.DebugContext(ctx, "x read", "endpoint", EndpointDMEvents, "events", page.Read, "messages", len(page.Events),
		"newest_id", page.NewestID, "more", page.NextToken != "",
		"rate_remaining", page.RateLimit.Remaining, "rate_reset", page.RateLimit.Reset)
	return page, nil
}
