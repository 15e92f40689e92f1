package xwebhook

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/pajarito-care/pajarito/shared/care"
)

// X Activity API event types this package turns into envelopes. Any other type is
// accepted, listed in Result.Ignored and enqueued as a care.KindIgnored envelope,
// which the processor counts by type.
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
	// X Chat: end-to-end encrypted DMs, received and sent by the brand. Their
	// payload is ciphertext; the message is kept even when Pajarito cannot
	// decrypt it (care.XChat).
	EventChatReceived = "chat.received"
	EventChatSent     = "chat.sent"
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
	EventChatReceived,
	EventChatSent,
	EventOAuthRevoke,
}

// xaaEvent is the "data" object of an X Activity API delivery.
type xaaEvent struct {
	EventUUID xid    // "event_uuid"
	EventType string // "event_type"
	Filter    struct {
		UserID xid `json:"user_id"`
	} // "filter"
	Payload  xaaPayload        // "payload"
	Includes value[expansions] // "includes"
}

// UnmarshalJSONFrom decodes the "data" object. Its members are matched as struct
// fields are (see decodeOptions); the payload is decoded as what the event type
// carries (see xaaPayload).
func (ev *xaaEvent) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if ok, err := beginObject(dec); !ok {
		return err
	}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		switch name := tok.String(); {
		case strings.EqualFold(name, "event_uuid"):
			err = ev.EventUUID.UnmarshalJSONFrom(dec)
		case strings.EqualFold(name, "event_type"):
			err = json.UnmarshalDecode(dec, &ev.EventType)
		case strings.EqualFold(name, "filter"):
			err = json.UnmarshalDecode(dec, &ev.Filter)
		case strings.EqualFold(name, "payload"):
			err = ev.Payload.decode(dec, ev.EventType)
		case strings.EqualFold(name, "includes"):
			err = ev.Includes.UnmarshalJSONFrom(dec)
		default:
			err = skipValue(dec)
		}
		if err != nil {
			return err
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	return ev.Payload.settle(ev.EventType)
}

// payloadKind is what an event type carries in its payload.
type payloadKind int

const (
	payloadOther  payloadKind = iota // nothing this package reads
	payloadPost                      // a v2 Post: post.* events
	payloadDelete                    // {"id", "author_id"}: post.delete
	payloadDMs                       // {"direct_message_events", "users"}: dm.*
	payloadRevoke                    // {"user_id", "date_time"}: oauth.revoke
	payloadChat                      // an X Chat event: chat.*
)

func payloadKindOf(eventType string) payloadKind {
	switch eventType {
	case EventPostMention, EventPostReply, EventPostQuote, EventPostCreate, EventPostRepost:
		return payloadPost
	case EventPostDelete:
		return payloadDelete
	case EventDMReceived, EventDMSent:
		return payloadDMs
	case EventOAuthRevoke:
		return payloadRevoke
	case EventChatReceived, EventChatSent:
		return payloadChat
	}
	return payloadOther
}

// xaaPayload is the "payload" of an XAA event, decoded as the kind of payload its
// event type carries. X sends event_type before payload, so the payload is decoded
// as it is read; were the type to come after it (or change, repeated), settle
// decodes the payload's bytes again once the type is known.
type xaaPayload struct {
	kind    payloadKind // what it was decoded as
	raw     []byte      // X's JSON of the payload
	set     bool
	problem error

	post postPayload
	del  struct {
		ID       xid `json:"id"`
		AuthorID xid `json:"author_id"`
	}
	dms    xaaDMs
	revoke struct {
		UserID   xid    `json:"user_id"`
		DateTime string `json:"date_time"`
	}
	chat chatEvent
}

// chatEvent is the payload of chat.* events: what X says outside the
// ciphertext (encoded_event and its signature, left in the payload's raw JSON).
type chatEvent struct {
	ID             xid    `json:"id"`
	SenderID       xid    `json:"sender_id"`
	ConversationID xid    `json:"conversation_id"`
	CreatedAtMsec  xid    `json:"created_at_msec"`
	EncodedEvent   string `json:"encoded_event"`
}

// xaaDMs is the payload of dm.* events.
type xaaDMs struct {
	Events items[dmEvent] `json:"direct_message_events"`
	Users  userSet        `json:"users"`
}

// decode reads the payload as what eventType carries.
func (pl *xaaPayload) decode(dec *jsontext.Decoder, eventType string) (err error) {
	if pl.set {
		*pl = xaaPayload{}
	}
	pl.kind, pl.set = payloadKindOf(eventType), true
	pl.raw, pl.problem, err = decodeValue(dec, pl.target())
	return err
}

// settle decodes the payload again when eventType, final, carries another kind of
// payload than the one it was decoded as.
func (pl *xaaPayload) settle(eventType string) error {
	if !pl.set || pl.kind == payloadKindOf(eventType) {
		return nil
	}
	raw := pl.raw
	return decode(raw, func(dec *jsontext.Decoder) error {
		err := pl.decode(dec, eventType)
		pl.raw = raw
		return err
	})
}

func (pl *xaaPayload) target() any {
	switch pl.kind {
	case payloadPost:
		return &pl.post
	case payloadDelete:
		return &pl.del
	case payloadDMs:
		return &pl.dms
	case payloadRevoke:
		return &pl.revoke
	case payloadChat:
		return &pl.chat
	}
	return &skipped{}
}

// err is why the payload cannot be used: absent, or not of its kind's shape.
func (pl *xaaPayload) err() error {
	if !pl.set {
		return errors.New("no payload")
	}
	return pl.problem
}

// v2Entities are the entities of a v2 Post (or of its note_tweet).
type v2Entities struct {
	Mentions []struct {
		ID       xid    `json:"id"`
		Username string `json:"username"`
	} `json:"mentions"`
	URLs links `json:"urls"`
}

// v2Post is an X API v2 Post object, as carried by XAA post events and v2 reads.
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
}

// expandedPost is a v2 Post with the expansions X may attach to it.
type expandedPost struct {
	v2Post
	Includes value[expansions] `json:"includes"`
}

// postPayload is the payload of a post.* event: a v2 Post or, liberally, a payload
// shaped like a v2 API response, {"data": post, "includes": {...}}.
type postPayload struct {
	expandedPost
	Data value[expandedPost] `json:"data"`
}

// expansions is an "includes" object: the users and posts an event refers to.
type expansions struct {
	Users  items[user] `json:"users"`
	Tweets postRefs    `json:"tweets"`
}

// postRefs is the "tweets" of an includes object. As when encoding/json decoded
// it, "tweets" that is not an array spoils the includes object even when a
// repeated "tweets" follows.
type postRefs struct {
	items[postRef]
}

// UnmarshalJSONFrom decodes the next value of dec, keeping an earlier problem.
func (r *postRefs) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	problem := r.problem
	err := r.items.UnmarshalJSONFrom(dec)
	r.problem = cmp.Or(problem, r.problem)
	return err
}

// postRef is a post of an includes object, of which only the id and the author
// count.
type postRef struct {
	ID       xid `json:"id"`
	AuthorID xid `json:"author_id"`
}

// includes indexes the expansions that came with an event.
type includes struct {
	users        users
	tweetAuthors map[string]string // post id → author id
}

func newIncludes() *includes {
	return &includes{users: users{}, tweetAuthors: map[string]string{}}
}

// add indexes an includes object; bad parts are skipped since expansions only
// decorate: a user of the wrong shape, "users" that is not a list, and the whole
// object when it is not one or its "tweets" is not a list.
func (inc *includes) add(v *value[expansions]) {
	if !v.ok() || v.val.Tweets.problem != nil {
		return
	}
	inc.users.addList(&v.val.Users)
	for _, t := range v.val.Tweets.list {
		if t.ok() && t.val.ID != "" {
			inc.tweetAuthors[string(t.val.ID)] = string(t.val.AuthorID)
		}
	}
}

// xaa normalises an X Activity API delivery.
func (p *parser) xaa(d *delivery) error {
	if d.data.problem != nil {
		return fmt.Errorf("%w: XAA \"data\": %v", ErrMalformed, d.data.problem)
	}
	ev := &d.data.val
	if ev.EventType == "" {
		return fmt.Errorf("%w: XAA \"data\" has no event_type", ErrMalformed)
	}
	p.eventID = string(ev.EventUUID)
	p.res.EventID = p.eventID

	pl := &ev.Payload
	switch ev.EventType {
	case EventOAuthRevoke:
		// The filter of oauth.revoke may be empty: the user is in the payload.
		if err := pl.err(); err != nil {
			p.addUnparsed(pl.raw, fmt.Errorf("%s payload: %w", ev.EventType, err))
			return nil
		}
		p.revocation(firstNonEmpty(string(pl.revoke.UserID), string(ev.Filter.UserID)), pl.revoke.DateTime, pl.raw)
		return nil
	case EventPostMention, EventPostReply, EventPostQuote, EventPostCreate, EventPostRepost,
		EventPostDelete, EventDMReceived, EventDMSent, EventChatReceived, EventChatSent:
	default:
		p.res.ignore(ev.EventType)
		p.ignored(ev.EventType)
		return nil
	}

	if string(ev.Filter.UserID) != p.brand.ID {
		p.res.drop(DropNotServed, string(ev.Filter.UserID))
		return nil
	}
	inc := newIncludes()
	inc.add(&d.includes) // liberal: includes next to data
	inc.add(&ev.Includes)

	switch ev.EventType {
	case EventDMReceived, EventDMSent:
		err := pl.err()
		if err == nil && pl.dms.Events.isNull() {
			err = fmt.Errorf("no direct_message_events")
		}
		if err != nil {
			p.addUnparsed(pl.raw, fmt.Errorf("%s payload: %w", ev.EventType, err))
			return nil
		}
		inc.users.addMap(&pl.dms.Users)
		inc.users.addList(&pl.dms.Users.list)
		p.dms(&pl.dms.Events, inc.users)
	case EventChatReceived, EventChatSent:
		if err := pl.err(); err != nil {
			p.addUnparsed(pl.raw, fmt.Errorf("%s payload: %w", ev.EventType, err))
			return nil
		}
		p.chat(&pl.chat, pl.raw, inc.users)
	case EventPostDelete:
		// A bad payload leaves an empty id, quarantined by deletion.
		p.deletion(string(pl.del.ID), string(pl.del.AuthorID), p.receivedAt, pl.raw)
	default:
		p.xaaPost(ev.EventType, pl, inc)
	}
	return nil
}

// xaaPost normalises the v2 Post of a post.* event.
func (p *parser) xaaPost(eventType string, pl *xaaPayload, inc *includes) {
	if err := pl.err(); err != nil {
		p.addUnparsed(pl.raw, fmt.Errorf("%s payload: %w", eventType, err))
		return
	}
	post, raw := &pl.post.expandedPost, pl.raw
	if post.ID == "" && !pl.post.Data.isNull() {
		inc.add(&post.Includes)
		data := &pl.post.Data
		if data.problem != nil {
			p.addUnparsed(data.raw, fmt.Errorf("%s payload data: %w", eventType, data.problem))
			return
		}
		post, raw = &data.val, data.raw
	}
	inc.add(&post.Includes)
	// The event itself says the brand was mentioned, replied to or quoted.
	summoned := eventType == EventPostMention || eventType == EventPostReply || eventType == EventPostQuote
	p.v2Post(&post.v2Post, raw, inc, summoned)
}

// v2Post normalises one X API v2 Post object, whichever route carried it (an XAA
// post event or a v2 REST read, see ParsePosts). raw is the post's own JSON, kept as
// the envelope's Raw; inc holds the expansions; summoned is true when the route
// already says that the post addresses the brand.
func (p *parser) v2Post(post *v2Post, raw []byte, inc *includes, summoned bool) {
	text, ents := post.Text, post.Entities
	if post.NoteTweet != nil && post.NoteTweet.Text != "" { // long post: the full text
		text = post.NoteTweet.Text
		ents.Mentions = append(ents.Mentions, post.NoteTweet.Entities.Mentions...)
		ents.URLs += post.NoteTweet.Entities.URLs
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
		HasURL:          ents.URLs > 0 || hasLink(text),
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
		if reason == DropOwnPost {
			own := *m
			if at, err := time.Parse(time.RFC3339, post.CreatedAt); err == nil {
				own.CreatedAt = at.UTC()
			} else {
				own.CreatedAt, _ = care.IDTime(m.ID)
			}
			p.res.Own = append(p.res.Own, own)
		}
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
func (p *parser) revocation(userID, dateTime string, raw []byte) {
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
func (p *parser) deletion(id, userID string, at time.Time, raw []byte) {
	if !care.IsID(id) {
		p.addUnparsed(raw, fmt.Errorf("deleted post id %q is not a decimal X id", id))
		return
	}
	env := p.envelope(care.KindDeletion)
	env.Deletion = &care.Deletion{Channel: care.Public, ID: id, UserID: userID, DeletedAt: at.UTC()}
	env.Raw = raw
	p.res.Envelopes = append(p.res.Envelopes, env)
}

// chat normalises an X Chat event: a DM of the conversation between its sender
// and the other participant, marked as X Chat (its text stays encrypted). Its id
// is X's when the event's id is an X id; otherwise (a UUID) it is derived from
// that id and the event's time, a snowflake, so that the message sorts with the
// case's others and a repeated delivery finds the same message.
func (p *parser) chat(ev *chatEvent, raw []byte, us users) {
	sender, conv := string(ev.SenderID), string(ev.ConversationID)
	m := &care.Message{
		Channel:   care.DM,
		Direction: care.Inbound,
		AuthorID:  sender,
		XChat:     &care.XChat{EventID: string(ev.ID), ConversationID: conv},
	}
	other, oneToOne := chatPeer(conv, p.brand.ID)
	switch {
	case sender == p.brand.ID:
		if !oneToOne {
			// A group conversation: no one customer to thread the brand's
			// message with.
			p.res.drop(DropGroupChat, conv)
			return
		}
		m.Direction, m.RecipientID = care.Outbound, other
	default:
		m.RecipientID, m.Summoned = p.brand.ID, true // any inbound DM addresses the brand
	}
	var problem error
	m.CreatedAt, problem = parseMillis(string(ev.CreatedAtMsec))
	switch {
	case problem != nil:
	case ev.ID == "":
		problem = errors.New("X Chat event has no id")
	case ev.EncodedEvent == "":
		problem = errors.New("X Chat event has no encoded_event")
	case care.IsID(string(ev.ID)):
		m.ID = string(ev.ID)
	default:
		m.ID = care.XChatMessageID(string(ev.ID), m.CreatedAt)
	}
	us.decorate(m)
	p.addMessage(m, raw, problem)
}

// chatPeer returns the participant of the one-to-one X Chat conversation conv
// ("<id>:<id>") who is not brand; ok is false for any other conversation.
func chatPeer(conv, brand string) (peer string, ok bool) {
	a, b, found := strings.Cut(conv, ":")
	switch {
	case !found || !care.IsID(a) || !care.IsID(b):
		return "", false
	case a == brand:
		return b, true
	case b == brand:
		return a, true
	}
	return "", false
}
