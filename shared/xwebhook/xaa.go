package xwebhook

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

// X Activity API event types this package turns into envelopes. Any other type is
// accepted and listed in Result.Ignored.
const (
	EventPostMention = "post.mention.create" // someone @mentions the brand
	EventPostReply   = "post.reply.create"   // someone replies directly to a brand post
	EventPostQuote   = "post.quote.create"   // someone quotes a brand post
	EventPostCreate  = "post.create"         // the brand posts (replies made from X's own app)
	EventPostRepost  = "post.repost.create"  // someone reposts a brand post (dropped)
	EventPostDelete  = "post.delete"         // the brand deletes a post
	EventDMReceived  = "dm.received"
	EventDMSent      = "dm.sent"
	EventOAuthRevoke = "oauth.revoke"
)

// SubscribedEvents are the X Activity API events the brand is subscribed to
// (pajarito webhook register, and the local system with the fake X API): every
// type this package turns into messages, deletions or revocations. Reposts
// (post.repost.create) are parsed but dropped, so they are not subscribed (X bills
// per event delivered).
//
// post.reply.create, post.quote.create and oauth.revoke with a user_id filter are
// not in docs.x.com's event list (2026-08); X refuses what it does not know, and
// register reports that item as failed.
var SubscribedEvents = []string{
	EventPostMention,
	EventPostReply,
	EventPostQuote,
	EventPostCreate,
	EventPostDelete,
	EventDMReceived,
	EventDMSent,
	EventOAuthRevoke,
}

// xaaEvent is the "data" object of an X Activity API delivery.
type xaaEvent struct {
	EventUUID xid    `json:"event_uuid"`
	EventType string `json:"event_type"`
	Filter    struct {
		UserID xid `json:"user_id"`
	} `json:"filter"`
	Payload  json.RawMessage `json:"payload"`
	Includes json.RawMessage `json:"includes"`
}

// v2Entities are the entities of a v2 Post (or of its note_tweet).
type v2Entities struct {
	Mentions []struct {
		ID       xid    `json:"id"`
		Username string `json:"username"`
	} `json:"mentions"`
	URLs []json.RawMessage `json:"urls"`
}

// v2Post is an X API v2 Post object, as carried by XAA post events.
type v2Post struct {
	ID        xid    `json:"id"`
	Text      string `json:"text"`
	NoteTweet *struct {
		Text     string     `json:"text"`
		Entities v2Entities `json:"entities"`
	} `json:"note_tweet"`
	AuthorID         xid    `json:"author_id"`
	CreatedAt        string `json:"created_at"`
	ConversationID   xid    `json:"conversation_id"`
	Lang             string `json:"lang"`
	InReplyToUserID  xid    `json:"in_reply_to_user_id"`
	InReplyToTweetID xid    `json:"in_reply_to_tweet_id"`
	ReferencedTweets []struct {
		Type string `json:"type"`
		ID   xid    `json:"id"`
	} `json:"referenced_tweets"`
	Entities v2Entities `json:"entities"`
	// A payload shaped like a v2 API response: {"data": post, "includes": {...}}.
	Data     json.RawMessage `json:"data"`
	Includes json.RawMessage `json:"includes"`
}

// includes holds the expansions that came with an event.
type includes struct {
	users        users
	tweetAuthors map[string]string // post id → author id
}

func newIncludes() *includes {
	return &includes{users: users{}, tweetAuthors: map[string]string{}}
}

// add reads an includes object ({"users":[...],"tweets":[...]}); bad parts are
// skipped since expansions only decorate.
func (inc *includes) add(raw json.RawMessage) {
	if isNull(raw) {
		return
	}
	var obj struct {
		Users  json.RawMessage   `json:"users"`
		Tweets []json.RawMessage `json:"tweets"`
	}
	if json.Unmarshal(raw, &obj) != nil {
		return
	}
	inc.users.addList(obj.Users)
	for _, t := range obj.Tweets {
		var post struct {
			ID       xid `json:"id"`
			AuthorID xid `json:"author_id"`
		}
		if json.Unmarshal(t, &post) == nil && post.ID != "" {
			inc.tweetAuthors[string(post.ID)] = string(post.AuthorID)
		}
	}
}

// xaa normalises an X Activity API delivery.
func (p *parser) xaa(top map[string]json.RawMessage) error {
	var ev xaaEvent
	if err := json.Unmarshal(top["data"], &ev); err != nil {
		return fmt.Errorf("%w: XAA \"data\": %v", ErrMalformed, err)
	}
	if ev.EventType == "" {
		return fmt.Errorf("%w: XAA \"data\" has no event_type", ErrMalformed)
	}
	p.eventID = string(ev.EventUUID)
	p.res.EventID = p.eventID

	switch ev.EventType {
	case EventOAuthRevoke:
		// The filter of oauth.revoke may be empty: the user is in the payload.
		var rv struct {
			UserID   xid    `json:"user_id"`
			DateTime string `json:"date_time"`
		}
		if err := json.Unmarshal(ev.Payload, &rv); err != nil {
			p.addUnparsed(ev.Payload, fmt.Errorf("%s payload: %w", ev.EventType, err))
			return nil
		}
		p.revocation(firstNonEmpty(string(rv.UserID), string(ev.Filter.UserID)), rv.DateTime, ev.Payload)
		return nil
	case EventPostMention, EventPostReply, EventPostQuote, EventPostCreate, EventPostRepost,
		EventPostDelete, EventDMReceived, EventDMSent:
	default:
		p.res.ignore(ev.EventType)
		return nil
	}

	if string(ev.Filter.UserID) != p.brand.ID {
		p.res.drop(DropNotServed, string(ev.Filter.UserID))
		return nil
	}
	inc := newIncludes()
	inc.add(top["includes"]) // liberal: includes next to data
	inc.add(ev.Includes)

	switch ev.EventType {
	case EventDMReceived, EventDMSent:
		var dm struct {
			Events json.RawMessage `json:"direct_message_events"`
			Users  json.RawMessage `json:"users"`
		}
		if err := json.Unmarshal(ev.Payload, &dm); err != nil || isNull(dm.Events) {
			if err == nil {
				err = fmt.Errorf("no direct_message_events")
			}
			p.addUnparsed(ev.Payload, fmt.Errorf("%s payload: %w", ev.EventType, err))
			return nil
		}
		inc.users.addMap(dm.Users)
		inc.users.addList(dm.Users)
		p.dms(dm.Events, inc.users)
	case EventPostDelete:
		var del struct {
			ID       xid `json:"id"`
			AuthorID xid `json:"author_id"`
		}
		_ = json.Unmarshal(ev.Payload, &del) // a bad payload leaves an empty id, quarantined below
		p.deletion(string(del.ID), string(del.AuthorID), p.receivedAt, ev.Payload)
	default:
		p.xaaPost(ev.EventType, ev.Payload, inc)
	}
	return nil
}

// xaaPost normalises the v2 Post of a post.* event.
func (p *parser) xaaPost(eventType string, raw json.RawMessage, inc *includes) {
	var post v2Post
	if err := json.Unmarshal(raw, &post); err != nil {
		p.addUnparsed(raw, fmt.Errorf("%s payload: %w", eventType, err))
		return
	}
	if post.ID == "" && !isNull(post.Data) {
		raw = post.Data
		inc.add(post.Includes)
		post = v2Post{}
		if err := json.Unmarshal(raw, &post); err != nil {
			p.addUnparsed(raw, fmt.Errorf("%s payload data: %w", eventType, err))
			return
		}
	}
	inc.add(post.Includes)
	// The event itself says the brand was mentioned, replied to or quoted.
	summoned := eventType == EventPostMention || eventType == EventPostReply || eventType == EventPostQuote
	p.v2Post(&post, raw, inc, summoned)
}

// v2Post normalises one X API v2 Post object, whichever route carried it (an XAA
// post event or a v2 REST read, see ParsePosts). raw is the post's own JSON, kept as
// the envelope's Raw; inc holds the expansions; summoned is true when the route
// already says that the post addresses the brand.
func (p *parser) v2Post(post *v2Post, raw json.RawMessage, inc *includes, summoned bool) {
	text, ents := post.Text, post.Entities
	if post.NoteTweet != nil && post.NoteTweet.Text != "" { // long post: the full text
		text = post.NoteTweet.Text
		ents.Mentions = append(ents.Mentions, post.NoteTweet.Entities.Mentions...)
		ents.URLs = append(ents.URLs, post.NoteTweet.Entities.URLs...)
	}
	m := &care.Message{
		Channel:         care.Public,
		ID:              string(post.ID),
		AuthorID:        string(post.AuthorID),
		Text:            text,
		Lang:            post.Lang,
		ConversationID:  string(post.ConversationID),
		InReplyToID:     string(post.InReplyToTweetID),
		InReplyToUserID: string(post.InReplyToUserID),
		HasURL:          len(ents.URLs) > 0 || hasLink(text),
	}
	retweet := false
	for _, ref := range post.ReferencedTweets {
		switch ref.Type {
		case "replied_to":
			if m.InReplyToID == "" {
				m.InReplyToID = string(ref.ID)
			}
		case "quoted":
			m.QuotedID = string(ref.ID)
		case "retweeted":
			retweet = true
		}
	}
	for _, mention := range ents.Mentions {
		m.MentionedIDs = appendUnique(m.MentionedIDs, string(mention.ID))
	}
	m.Summoned = summoned || p.summons(text, m.MentionedIDs) ||
		m.InReplyToUserID == p.brand.ID ||
		m.QuotedID != "" && inc.tweetAuthors[m.QuotedID] == p.brand.ID
	inc.users.decorate(m)

	if reason := p.classifyPost(m, retweet); reason != "" {
		p.res.drop(reason, m.ID)
		return
	}
	var problem error
	if m.CreatedAt, problem = time.Parse(time.RFC3339, post.CreatedAt); problem != nil {
		problem = fmt.Errorf("post %s: created_at %q is not RFC 3339", m.ID, post.CreatedAt)
	}
	m.CreatedAt = m.CreatedAt.UTC()
	p.addMessage(m, raw, problem)
}

// revocation enqueues a revocation for the brand, or drops one for another user.
func (p *parser) revocation(userID, dateTime string, raw json.RawMessage) {
	switch {
	case userID == "":
		p.addUnparsed(raw, fmt.Errorf("revocation names no user"))
		return
	case userID != p.brand.ID:
		p.res.drop(DropNotServed, userID)
		return
	}
	at, err := time.Parse(time.RFC3339, dateTime)
	if err != nil {
		at = p.receivedAt
	}
	env := p.envelope(care.KindRevocation)
	env.Revocation = &care.Revocation{UserID: userID, RevokedAt: at.UTC()}
	env.Raw = raw
	p.res.Envelopes = append(p.res.Envelopes, env)
}

// deletion enqueues the deletion of a public post.
func (p *parser) deletion(id, userID string, at time.Time, raw json.RawMessage) {
	if !care.IsID(id) {
		p.addUnparsed(raw, fmt.Errorf("deleted post id %q is not a decimal X id", id))
		return
	}
	env := p.envelope(care.KindDeletion)
	env.Deletion = &care.Deletion{Channel: care.Public, ID: id, UserID: userID, DeletedAt: at.UTC()}
	env.Raw = raw
	p.res.Envelopes = append(p.res.Envelopes, env)
}
