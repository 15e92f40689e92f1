// Package care holds Pajarito's domain: the messages customers send the brand on X,
// the cases they are threaded into, and the envelope that carries them from the
// listeners (webhook, mentions poll, keyword search) to the processor.
//
// Everything that crosses a queue is an Envelope encoded as JSON. Its shape is
// versioned (EnvelopeVersion) so that a processor can refuse, rather than misread, a
// message written by a newer listener.
package care

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Channel says where a message was posted.
type Channel string

const (
	// Public is a post (tweet) anyone can read: mentions, replies, quotes.
	Public Channel = "public"
	// DM is a direct message between the customer and the brand.
	DM Channel = "dm"
)

// Direction says who wrote a message.
type Direction string

const (
	// Inbound messages are written by customers.
	Inbound Direction = "in"
	// Outbound messages are written by the brand (an agent, an automatic reply, or
	// someone using X's own app with the brand account).
	Outbound Direction = "out"
)

// Source names the route by which a message reached Pajarito.
type Source string

const (
	SourceXAA      Source = "xaa"      // X Activity API webhook
	SourceAAA      Source = "aaa"      // legacy Account Activity API webhook
	SourceMentions Source = "mentions" // scheduled poll of the brand's mentions timeline
	SourceSearch   Source = "search"   // scheduled keyword search
	SourceReply    Source = "reply"    // Pajarito's own reply sender
)

// Message is one post or DM, normalised from whichever X payload generation carried
// it. IDs are decimal strings: X ids are 64-bit and do not survive float64.
type Message struct {
	Channel   Channel   `json:"channel"`
	Direction Direction `json:"direction"`
	// ID is the post id (Public) or the DM event id (DM).
	ID string `json:"id"`
	// AuthorID and AuthorHandle identify who wrote it (handle without "@").
	AuthorID     string `json:"author_id"`
	AuthorHandle string `json:"author_handle,omitempty"`
	AuthorName   string `json:"author_name,omitempty"`
	// AuthorFollowers and AuthorVerified feed priority; zero when the payload lacks them.
	AuthorFollowers int  `json:"author_followers,omitempty"`
	AuthorVerified  bool `json:"author_verified,omitempty"`
	// Text is the full text (extended text when the post was truncated).
	Text string `json:"text"`
	// Lang is X's BCP 47 tag for the text ("es", "en", "und"); empty when X gives none.
	Lang      string    `json:"lang,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// ConversationID is the id of the post that started the public conversation.
	// Legacy payloads lack it; it is then empty and threading uses InReplyToID.
	ConversationID string `json:"conversation_id,omitempty"`
	// InReplyToID and InReplyToUserID describe the post this one answers.
	InReplyToID     string `json:"in_reply_to_id,omitempty"`
	InReplyToUserID string `json:"in_reply_to_user_id,omitempty"`
	// QuotedID is the post this one quotes, if any.
	QuotedID string `json:"quoted_id,omitempty"`
	// MentionedIDs are the user ids mentioned in the text.
	MentionedIDs []string `json:"mentioned_ids,omitempty"`
	// RecipientID is the other party of a DM (the brand for inbound DMs, the customer
	// for outbound ones). Empty for public posts.
	RecipientID string `json:"recipient_id,omitempty"`
	// Summoned is true when the author addressed the brand: mentioned it, quoted or
	// replied to one of its posts, or wrote it a DM. X's self-serve tiers allow
	// automatic replies only to summoned posts, and price them lower.
	Summoned bool `json:"summoned"`
	// HasURL is true when the text carries a link.
	HasURL bool `json:"has_url,omitempty"`
	// XChat is set on an X Chat message (an end-to-end encrypted DM, X Activity
	// events chat.received and chat.sent): Text is empty while Pajarito cannot
	// read it (it holds no X Chat keys). The ciphertext stays in the envelope's
	// Raw.
	XChat *XChat `json:"xchat,omitempty"`
}

// XChat is what X says of an X Chat message outside its ciphertext.
type XChat struct {
	// EventID is X's id of the chat event (a UUID).
	EventID string `json:"event_id"`
	// ConversationID is X Chat's conversation id: "<user id>:<user id>" for a
	// one-to-one conversation, the lower id first.
	ConversationID string `json:"conversation_id"`
	// Verified is set when Pajarito opened the message: its signature
	// verified against the sender's signing key registered with X, and its
	// text (Message.Text) is what the sender encrypted.
	Verified bool `json:"verified,omitempty"`
	// Problem says why Pajarito, holding the brand's X Chat keys, could not
	// open the message (for the console and the decision); it starts with
	// XChatUnverifiedPrefix when the signature could not be verified. It
	// never holds key material or ciphertext.
	Problem string `json:"problem,omitempty"`
}

// XChatUnverifiedPrefix starts XChat.Problem when an X Chat message's
// signature could not be verified: its text, if any, is not to be trusted,
// and Pajarito keeps none.
const XChatUnverifiedPrefix = "could not verify"

// Unverified reports whether x is an X Chat message whose signature could not
// be verified.
func (x *XChat) Unverified() bool {
	return x != nil && strings.HasPrefix(x.Problem, XChatUnverifiedPrefix)
}

// Encrypted reports whether m is an X Chat message Pajarito could not read:
// it has no text (XChat.Problem may say why).
func (m *Message) Encrypted() bool { return m.XChat != nil && m.Text == "" }

// Customer returns the id of the customer side of the message: the author of an
// inbound message, the recipient of an outbound DM, and the replied-to user of an
// outbound public reply; when the brand answers its own reply (a second post to
// the customer, an update in their thread), the first other user it mentions.
func (m *Message) Customer() string {
	if m.Direction == Inbound {
		return m.AuthorID
	}
	if m.Channel == DM {
		return m.RecipientID
	}
	if m.InReplyToUserID != "" && m.InReplyToUserID == m.AuthorID {
		for _, id := range m.MentionedIDs {
			if id != m.AuthorID {
				return id
			}
		}
		return ""
	}
	return m.InReplyToUserID
}

// Validate reports the first field that makes the message unusable.
func (m *Message) Validate() error {
	switch {
	case m.Channel != Public && m.Channel != DM:
		return fmt.Errorf("message %q: channel %q is neither %q nor %q", m.ID, m.Channel, Public, DM)
	case m.Direction != Inbound && m.Direction != Outbound:
		return fmt.Errorf("message %q: direction %q is neither %q nor %q", m.ID, m.Direction, Inbound, Outbound)
	case !IsID(m.ID):
		return fmt.Errorf("message id %q is not a decimal X id", m.ID)
	case !IsID(m.AuthorID):
		return fmt.Errorf("message %s: author id %q is not a decimal X id", m.ID, m.AuthorID)
	case m.CreatedAt.IsZero():
		return fmt.Errorf("message %s: created time is missing", m.ID)
	case m.Channel == DM && !IsID(m.RecipientID):
		return fmt.Errorf("message %s: DM recipient id %q is not a decimal X id", m.ID, m.RecipientID)
	case m.XChat != nil && m.Channel != DM:
		return fmt.Errorf("message %s: an X Chat message is a DM, not %q", m.ID, m.Channel)
	case m.XChat != nil && (m.XChat.EventID == "" || m.XChat.ConversationID == ""):
		return fmt.Errorf("message %s: X Chat event id or conversation id is missing", m.ID)
	}
	return nil
}

// maxID is the largest X id: X's ids are unsigned 64-bit integers.
const maxID = "18446744073709551615"

// IsID reports whether s is an X id: 1 to 20 decimal digits, at most 2^64−1
// (the largest an X id can be: what X cannot hold is not one of its ids).
func IsID(s string) bool {
	if len(s) == 0 || len(s) > len(maxID) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) < len(maxID) || s <= maxID
}

// Deletion says that a customer deleted a post or DM.
type Deletion struct {
	Channel   Channel   `json:"channel"`
	ID        string    `json:"id"`
	UserID    string    `json:"user_id,omitempty"`
	DeletedAt time.Time `json:"deleted_at"`
}

// Revocation says that a user revoked Pajarito's access to the brand account (or
// that X reports the brand's authorisation as revoked).
type Revocation struct {
	UserID    string    `json:"user_id"`
	RevokedAt time.Time `json:"revoked_at"`
}

// Kind is what an Envelope carries.
type Kind string

const (
	KindMessage    Kind = "message"
	KindDeletion   Kind = "deletion"
	KindRevocation Kind = "revocation"
	// KindUnparsed carries a signed webhook body that could not be parsed, so that the
	// processor quarantines it instead of it being lost.
	KindUnparsed Kind = "unparsed"
	// KindIgnored says that X delivered an event of a type Pajarito does not
	// handle (Envelope.Ignored): the processor counts it by type, so that a new
	// kind of customer message never vanishes quietly (pajarito doctor).
	KindIgnored Kind = "ignored"
)

// Ignored is an X event of a type Pajarito does not handle.
type Ignored struct {
	// EventType is X's type ("like.create"; for a legacy delivery, the array's
	// name).
	EventType string `json:"event_type"`
}

// EnvelopeVersion is the current version of the queue format.
const EnvelopeVersion = 1

// Brand is the X account a deployment serves (brand in pajarito.json).
type Brand struct {
	// ID is the account's numeric X user id.
	ID string `json:"id"`
	// Handle is its @handle, without the "@".
	Handle string `json:"handle"`
}

// Envelope is the unit on the inbound queue.
type Envelope struct {
	Version int    `json:"v"`
	Kind    Kind   `json:"kind"`
	Source  Source `json:"source"`
	// EventID is X's event id when the payload has one (XAA event_uuid); used in logs.
	EventID string `json:"event_id,omitempty"`
	// ReceivedAt is when Pajarito received it.
	ReceivedAt time.Time   `json:"received_at"`
	Message    *Message    `json:"message,omitempty"`
	Deletion   *Deletion   `json:"deletion,omitempty"`
	Revocation *Revocation `json:"revocation,omitempty"`
	Ignored    *Ignored    `json:"ignored,omitempty"`
	// Raw is X's own JSON for this item (the post or DM object, not the whole
	// delivery), kept for a limited time for audit and replay.
	Raw json.RawMessage `json:"raw,omitempty"`
	// Unparsed holds the body of a KindUnparsed envelope (possibly cut to fit the queue)
	// and Problem says why it could not be parsed.
	Unparsed string `json:"unparsed,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

// DedupeKey is the key under which this envelope's effect is stored once, or "" when
// the envelope kind has none.
func (e *Envelope) DedupeKey() string {
	switch {
	case e.Kind == KindMessage && e.Message != nil:
		return string(e.Message.Channel) + "#" + e.Message.ID
	case e.Kind == KindDeletion && e.Deletion != nil:
		return "del#" + string(e.Deletion.Channel) + "#" + e.Deletion.ID
	}
	return ""
}

// Validate checks that the envelope is of a version and shape this code understands.
func (e *Envelope) Validate() error {
	if e.Version != EnvelopeVersion {
		return fmt.Errorf("envelope version %d is not supported (this build reads %d)", e.Version, EnvelopeVersion)
	}
	switch e.Kind {
	case KindMessage:
		if e.Message == nil {
			return fmt.Errorf("envelope of kind %q has no message", e.Kind)
		}
		return e.Message.Validate()
	case KindDeletion:
		if e.Deletion == nil || !IsID(e.Deletion.ID) {
			return fmt.Errorf("envelope of kind %q has no valid deletion", e.Kind)
		}
	case KindRevocation:
		if e.Revocation == nil {
			return fmt.Errorf("envelope of kind %q has no revocation", e.Kind)
		}
	case KindIgnored:
		if e.Ignored == nil || e.Ignored.EventType == "" {
			return fmt.Errorf("envelope of kind %q has no event type", e.Kind)
		}
	case KindUnparsed:
		return fmt.Errorf("webhook body could not be parsed: %s", e.Problem)
	default:
		return fmt.Errorf("envelope kind %q is unknown", e.Kind)
	}
	return nil
}
