package xwebhook

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

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

// isAAA reports whether top looks like an Account Activity API body.
func isAAA(top map[string]json.RawMessage) bool {
	for key := range top {
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
	User                 json.RawMessage `json:"user"`
	CreatedAt            string          `json:"created_at"`
	TimestampMS          xid             `json:"timestamp_ms"`
	InReplyToStatusIDStr string          `json:"in_reply_to_status_id_str"`
	InReplyToUserIDStr   string          `json:"in_reply_to_user_id_str"`
	QuotedStatusIDStr    string          `json:"quoted_status_id_str"`
	QuotedStatus         *struct {
		User struct {
			IDStr string `json:"id_str"`
		} `json:"user"`
	} `json:"quoted_status"`
	RetweetedStatus json.RawMessage `json:"retweeted_status"`
	Lang            string          `json:"lang"`
	Entities        v1Entities      `json:"entities"`
}

// aaa normalises an Account Activity API delivery.
func (p *parser) aaa(top map[string]json.RawMessage) error {
	var forUser xid
	if raw, ok := top[aaaForUser]; ok {
		if err := json.Unmarshal(raw, &forUser); err != nil {
			return fmt.Errorf("%w: for_user_id: %v", ErrMalformed, err)
		}
	}
	served := string(forUser) == p.brand.ID
	// X's deliveries of 2017 and before carried no for_user_id. Their DMs are
	// still the brand's when the brand sends or receives them: dms keeps those
	// and drops, as not served, any other.
	legacyDMs := forUser == ""
	notServed := false

	keys := make([]string, 0, len(top))
	for key := range top {
		if !aaaMetadata[key] {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys) // a stable order for the envelopes

	for _, key := range keys {
		raw := top[key]
		switch key {
		case aaaUser:
			p.aaaUserEvent(raw, string(forUser))
		case aaaTweets, aaaDMs, aaaDeletes:
			if !served && !(key == aaaDMs && legacyDMs) {
				notServed = true
				continue
			}
			switch key {
			case aaaTweets:
				p.aaaTweets(raw)
			case aaaDMs:
				us := users{}
				us.addMap(top["users"])
				p.dms(raw, us)
			case aaaDeletes:
				p.aaaDeletes(raw)
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

func (p *parser) aaaTweets(raw json.RawMessage) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		p.addUnparsed(raw, fmt.Errorf("%s: %w", aaaTweets, err))
		return
	}
	for _, item := range items {
		p.aaaTweet(item)
	}
}

// aaaTweet normalises one v1.1 tweet.
func (p *parser) aaaTweet(raw json.RawMessage) {
	var t v1Tweet
	if err := json.Unmarshal(raw, &t); err != nil {
		p.addUnparsed(raw, fmt.Errorf("tweet: %w", err))
		return
	}
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
		HasURL:          len(ents.URLs) > 0 || hasLink(text),
	}
	if id, pr, ok := decodeUser(t.User); ok {
		m.AuthorID = id
		us := users{id: pr}
		us.decorate(m)
	}
	quotedAuthor := ""
	if t.QuotedStatus != nil {
		quotedAuthor = t.QuotedStatus.User.IDStr
	}
	m.Summoned = p.summons(text, m.MentionedIDs) ||
		m.InReplyToUserID == p.brand.ID ||
		quotedAuthor == p.brand.ID

	if reason := p.classifyPost(m, !isNull(t.RetweetedStatus)); reason != "" {
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

func (p *parser) aaaDeletes(raw json.RawMessage) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		p.addUnparsed(raw, fmt.Errorf("%s: %w", aaaDeletes, err))
		return
	}
	for _, item := range items {
		var del struct {
			Status struct {
				ID     xid    `json:"id"`
				IDStr  string `json:"id_str"`
				UserID xid    `json:"user_id"`
			} `json:"status"`
			TimestampMS xid `json:"timestamp_ms"`
		}
		_ = json.Unmarshal(item, &del) // a bad item leaves an empty id, quarantined by deletion
		at, err := parseMillis(string(del.TimestampMS))
		if err != nil {
			at = p.receivedAt
		}
		p.deletion(firstNonEmpty(del.Status.IDStr, string(del.Status.ID)), string(del.Status.UserID), at, item)
	}
}

// aaaUserEvent handles {"revoke": {"date_time", "source": {"user_id"}, "target": {"app_id"}}}.
func (p *parser) aaaUserEvent(raw json.RawMessage, forUser string) {
	var ue struct {
		Revoke json.RawMessage `json:"revoke"`
	}
	if json.Unmarshal(raw, &ue) != nil || isNull(ue.Revoke) {
		p.res.ignore(aaaUser)
		return
	}
	var rv struct {
		DateTime string `json:"date_time"`
		Source   struct {
			UserID xid `json:"user_id"`
		} `json:"source"`
	}
	if err := json.Unmarshal(ue.Revoke, &rv); err != nil {
		p.addUnparsed(raw, fmt.Errorf("user_event.revoke: %w", err))
		return
	}
	p.revocation(firstNonEmpty(string(rv.Source.UserID), forUser), rv.DateTime, raw)
}
