package xwebhook

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/pajarito-care/pajarito/shared/care"
)

// Keys of a legacy Account Activity API body.
const (
	aaaTweets    = "tweet_create_events"
	aaaDMs       = "direct_message_events"
	aaaDeletes   = "tweet_delete_events"
	aaaUser      = "user_event"
	aaaReplay    = "replay_job_status"
	aaaForUser   = "for_user_id"
	eventsSuffix = "_events"
)

// aaaMetadata are top-level keys that describe the events rather than carry them.
var aaaMetadata = map[string]bool{
	aaaForUser: true, "users": true, "apps": true, "user_has_blocked": true, "is_blocked_by": true,
}

// isAAA reports whether a body with these top-level names looks like an Account
// Activity API body.
func isAAA(names []string) bool {
	for _, key := range names {
		if key == aaaForUser || key == aaaUser || key == aaaReplay || strings.HasSuffix(key, eventsSuffix) {
			return true
		}
	}
	return false
}

// v1Tweet is a v1.1 Tweet object as carried by tweet_create_events.
type v1Tweet struct {
	IDStr         string `json:"id_str"`
	Text          string `json:"text"`
	FullText      string `json:"full_text"`
	Truncated     flag   `json:"truncated"`
	ExtendedTweet *struct {
		FullText string      `json:"full_text"`
		Entities *v1Entities `json:"entities"`
	} `json:"extended_tweet"`
	User                 value[user] `json:"user"` // a bad user leaves the tweet without author
	CreatedAt            string      `json:"created_at"`
	TimestampMS          xid         `json:"timestamp_ms"`
	InReplyToStatusIDStr string      `json:"in_reply_to_status_id_str"`
	InReplyToUserIDStr   string      `json:"in_reply_to_user_id_str"`
	QuotedStatusIDStr    string      `json:"quoted_status_id_str"`
	QuotedStatus         *struct {
		User struct {
			IDStr string `json:"id_str"`
		} `json:"user"`
	} `json:"quoted_status"`
	RetweetedStatus present    `json:"retweeted_status"`
	Lang            string     `json:"lang"`
	Entities        v1Entities `json:"entities"`
}

// v1Delete is a tweet_delete_events item. What of it decodes is used, problem or
// not (an item without a usable id is quarantined by deletion), so it decodes as
// encoding/json did: a member of the wrong kind is passed over (deletedStatus,
// looseString), while an id that is neither a string nor a number ends decoding.
type v1Delete struct {
	Status      deletedStatus `json:"status"`
	TimestampMS xid           `json:"timestamp_ms"`
}

// deletedStatus is the "status" of a tweet_delete_events item.
type deletedStatus struct {
	ID     xid         `json:"id"`
	IDStr  looseString `json:"id_str"`
	UserID xid         `json:"user_id"`
}

// UnmarshalJSONFrom decodes a status, and passes over a value that is not one.
func (s *deletedStatus) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if k := dec.PeekKind(); k != '{' && k != 'n' {
		return skipValue(dec)
	}
	type fields deletedStatus // without this method
	return json.UnmarshalDecode(dec, (*fields)(s))
}

// looseString is a string that a JSON value of another kind leaves as it was.
type looseString string

func (s *looseString) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if dec.PeekKind() != '"' {
		return skipValue(dec)
	}
	tok, err := dec.ReadToken()
	if err == nil {
		*s = looseString(tok.String())
	}
	return err
}

// userEvent is the user_event of a revocation:
// {"revoke": {"date_time", "source": {"user_id"}, "target": {"app_id"}}}.
type userEvent struct {
	Revoke value[struct {
		DateTime string `json:"date_time"`
		Source   struct {
			UserID xid `json:"user_id"`
		} `json:"source"`
	}] `json:"revoke"`
}

// aaa normalises an Account Activity API delivery.
func (p *parser) aaa(d *delivery) error {
	if d.forUser.problem != nil {
		return fmt.Errorf("%w: for_user_id: %v", ErrMalformed, d.forUser.problem)
	}
	forUser := d.forUser.val
	served := string(forUser) == p.brand.ID
	// X's deliveries of 2017 and before carried no for_user_id. Their DMs are
	// still the brand's when the brand sends or receives them: dms keeps those
	// and drops, as not served, any other.
	legacyDMs := forUser == ""
	notServed := false

	var keysBuf [8]string
	keys := keysBuf[:0]
	for _, key := range d.names {
		if !aaaMetadata[key] {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys) // a stable order for the envelopes
	keys = slices.Compact(keys)

	for _, key := range keys {
		switch key {
		case aaaUser:
			p.aaaUserEvent(&d.userEvent, string(forUser))
		case aaaTweets, aaaDMs, aaaDeletes:
			if !served && !(key == aaaDMs && legacyDMs) {
				notServed = true
				continue
			}
			switch key {
			case aaaTweets:
				p.aaaTweets(&d.tweets)
			case aaaDMs:
				us := users{}
				us.addMap(&d.users)
				p.dms(&d.dms, us)
			case aaaDeletes:
				p.aaaDeletes(&d.deletes)
			}
		default: // favorite_events, follow_events, replay_job_status, ...
			p.res.ignore(key)
		}
	}
	if notServed {
		p.res.drop(DropNotServed, string(forUser))
	}
	return nil
}

func (p *parser) aaaTweets(tweets *items[v1Tweet]) {
	if tweets.problem != nil {
		p.addUnparsed(tweets.raw, fmt.Errorf("%s: %w", aaaTweets, tweets.problem))
		return
	}
	for i := range tweets.list {
		if item := &tweets.list[i]; item.problem != nil {
			p.addUnparsed(item.raw, fmt.Errorf("tweet: %w", item.problem))
		} else {
			p.aaaTweet(&item.val, item.raw)
		}
	}
}

// aaaTweet normalises one v1.1 tweet; raw is its JSON.
func (p *parser) aaaTweet(t *v1Tweet, raw []byte) {
	text, ents := firstNonEmpty(t.FullText, t.Text), &t.Entities
	if t.ExtendedTweet != nil && t.ExtendedTweet.FullText != "" { // truncated: the full text
		text = t.ExtendedTweet.FullText
		if t.ExtendedTweet.Entities != nil {
			ents = t.ExtendedTweet.Entities
		}
	}
	m := &care.Message{
		Channel:         care.Public,
		ID:              t.IDStr,
		Text:            text,
		Lang:            t.Lang,
		InReplyToID:     t.InReplyToStatusIDStr,
		InReplyToUserID: t.InReplyToUserIDStr,
		QuotedID:        t.QuotedStatusIDStr,
		MentionedIDs:    ents.mentionIDs(),
		HasURL:          ents.URLs > 0 || hasLink(text),
	}
	if t.User.ok() {
		var pr profile
		m.AuthorID, pr = t.User.val.identity()
		pr.decorate(m)
	}
	quotedAuthor := ""
	if t.QuotedStatus != nil {
		quotedAuthor = t.QuotedStatus.User.IDStr
	}
	m.Summoned = p.summons(text, m.MentionedIDs) ||
		m.InReplyToUserID == p.brand.ID ||
		quotedAuthor == p.brand.ID

	if reason := p.classifyPost(m, bool(t.RetweetedStatus)); reason != "" {
		p.res.drop(reason, m.ID)
		return
	}
	var problem error
	if created, err := time.Parse(time.RubyDate, t.CreatedAt); err == nil {
		m.CreatedAt = created.UTC()
	} else if m.CreatedAt, err = parseMillis(string(t.TimestampMS)); err != nil {
		problem = fmt.Errorf("tweet %s: created_at %q is not a v1.1 date", m.ID, t.CreatedAt)
	}
	p.addMessage(m, raw, problem)
}

func (p *parser) aaaDeletes(deletes *items[v1Delete]) {
	if deletes.problem != nil {
		p.addUnparsed(deletes.raw, fmt.Errorf("%s: %w", aaaDeletes, deletes.problem))
		return
	}
	for i := range deletes.list {
		// A bad item leaves an empty id, quarantined by deletion.
		item := &deletes.list[i]
		del := &item.val
		at, err := parseMillis(string(del.TimestampMS))
		if err != nil {
			at = p.receivedAt
		}
		p.deletion(firstNonEmpty(string(del.Status.IDStr), string(del.Status.ID)), string(del.Status.UserID), at, item.raw)
	}
}

// aaaUserEvent handles {"revoke": {"date_time", "source": {"user_id"}, "target": {"app_id"}}}.
func (p *parser) aaaUserEvent(ue *value[userEvent], forUser string) {
	revoke := &ue.val.Revoke
	if ue.problem != nil || revoke.isNull() {
		p.res.ignore(aaaUser)
		return
	}
	if revoke.problem != nil {
		p.addUnparsed(ue.raw, fmt.Errorf("user_event.revoke: %w", revoke.problem))
		return
	}
	p.revocation(firstNonEmpty(string(revoke.val.Source.UserID), forUser), revoke.val.DateTime, ue.raw)
}
