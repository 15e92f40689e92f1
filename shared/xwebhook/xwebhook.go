// Package xwebhook receives X (Twitter) webhook deliveries for one brand account.
//
// It answers X's challenge-response check (CRC), verifies the
// x-twitter-webhooks-signature of every delivery, and normalises the bodies of both
// payload generations — the X Activity API (XAA, {"data":{"event_type",...}}) and the
// legacy Account Activity API (AAA, {"for_user_id", "tweet_create_events", ...}) —
// into care.Envelopes for the inbound queue.
//
// Parse is liberal in what it accepts: ids given as strings or numbers, user objects
// in the v1.1 layout ({"screen_name","followers_count"}) or the v2 layout
// ({"username","public_metrics"}), optionally wrapped in {"data":...}, and includes
// next to or inside the event. A body that is not JSON, or not an object of either
// generation, is rejected with an error wrapping ErrMalformed; a single item that
// cannot be normalised into a valid message becomes a care.KindUnparsed envelope so
// that it is quarantined rather than lost.
package xwebhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pajarito-care/pajarito/shared/care"
)

// Brand is the account the deployment serves.
type Brand struct {
	ID     string // decimal X user id
	Handle string // without "@"
}

// Payload generations, as found in Result.Generation.
const (
	GenerationXAA = "xaa" // X Activity API
	GenerationAAA = "aaa" // legacy Account Activity API
)

// Reasons for which an item of a delivery is dropped (Drop.Reason).
const (
	// DropNotServed: the event belongs to a user the deployment does not serve
	// (for_user_id, filter.user_id or the revoking user is not the brand).
	DropNotServed = "not_served"
	// DropRetweet: a repost carries no words of its own to answer.
	DropRetweet = "retweet"
	// DropOwnPost: the brand's own post that answers no customer: not a reply,
	// or a reply to its own post that mentions no one else (its own thread).
	DropOwnPost = "own_post"
	// DropNotMessage: a direct_message_events item that is not a message_create.
	DropNotMessage = "not_message"
)

// ErrMalformed is wrapped by Parse errors for bodies that are not JSON, not valid
// UTF-8, not a JSON object, or an object of no known shape.
var ErrMalformed = errors.New("malformed webhook body")

// Drop records an item that was understood and deliberately not enqueued.
type Drop struct {
	Reason string // one of the Drop* constants
	ID     string // the post, DM event or user id the reason is about
}

// Result is one webhook delivery, normalised.
type Result struct {
	// Generation is GenerationXAA or GenerationAAA.
	Generation string
	// EventID is X's id of the delivery when it has one (XAA event_uuid).
	EventID string
	// Envelopes are ready for the inbound queue, in the order of the delivery.
	Envelopes []care.Envelope
	// Dropped lists the items understood and not enqueued.
	Dropped []Drop
	// DropCounts counts Dropped by reason, for the log line.
	DropCounts map[string]int
	// Ignored lists the event types (XAA) or arrays (AAA) accepted and ignored,
	// such as "like.create" or "favorite_events".
	Ignored []string
}

func (r *Result) drop(reason, id string) {
	r.Dropped = append(r.Dropped, Drop{Reason: reason, ID: id})
	r.DropCounts[reason]++
}

func (r *Result) ignore(what string) { r.Ignored = append(r.Ignored, what) }

// Parse reads one webhook delivery body of either generation and normalises it for
// brand. receivedAt stamps the envelopes. The error wraps ErrMalformed when the body
// is not a JSON object of a known shape; the only other error is a brand whose ID is
// not an X id.
func Parse(body []byte, brand Brand, receivedAt time.Time) (*Result, error) {
	if !care.IsID(brand.ID) {
		return nil, fmt.Errorf("xwebhook: brand id %q is not a decimal X id", brand.ID)
	}
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("%w: body is not valid UTF-8", ErrMalformed)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if top == nil { // the body was null
		return nil, fmt.Errorf("%w: body is null, not an object", ErrMalformed)
	}
	p := parser{
		brand:      Brand{ID: brand.ID, Handle: strings.TrimPrefix(brand.Handle, "@")},
		receivedAt: receivedAt.UTC(),
		res:        Result{DropCounts: map[string]int{}},
	}
	switch {
	case top["data"] != nil:
		p.res.Generation, p.source = GenerationXAA, care.SourceXAA
		if err := p.xaa(top); err != nil {
			return nil, err
		}
	case isAAA(top):
		p.res.Generation, p.source = GenerationAAA, care.SourceAAA
		if err := p.aaa(top); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: object has neither XAA \"data\" nor AAA \"for_user_id\"/events keys (keys: %s)", ErrMalformed, keyList(top))
	}
	return &p.res, nil
}

// parser carries the state of one Parse call.
type parser struct {
	brand      Brand
	receivedAt time.Time
	source     care.Source
	eventID    string // XAA event_uuid
	res        Result
}

func (p *parser) envelope(kind care.Kind) care.Envelope {
	return care.Envelope{
		Version:    care.EnvelopeVersion,
		Kind:       kind,
		Source:     p.source,
		EventID:    p.eventID,
		ReceivedAt: p.receivedAt,
	}
}

// addMessage enqueues m, or quarantines raw when m cannot be used: problem is a
// conversion error found while building m, and m.Validate is checked last.
func (p *parser) addMessage(m *care.Message, raw json.RawMessage, problem error) {
	if problem == nil {
		problem = m.Validate()
	}
	if problem != nil {
		p.addUnparsed(raw, problem)
		return
	}
	env := p.envelope(care.KindMessage)
	env.Message = m
	env.Raw = raw
	p.res.Envelopes = append(p.res.Envelopes, env)
}

// addUnparsed quarantines one item (or a whole body) that could not be normalised.
func (p *parser) addUnparsed(raw []byte, problem error) {
	p.res.Envelopes = append(p.res.Envelopes, UnparsedEnvelope(p.source, p.eventID, p.receivedAt, raw, problem))
}

// MaxUnparsed is the most bytes of a body or item kept in a KindUnparsed envelope.
const MaxUnparsed = 200 << 10

// UnparsedEnvelope builds the KindUnparsed envelope that quarantines body (cut to
// MaxUnparsed bytes, invalid UTF-8 replaced) with the reason it could not be parsed.
func UnparsedEnvelope(source care.Source, eventID string, receivedAt time.Time, body []byte, problem error) care.Envelope {
	text := "unknown problem"
	if problem != nil {
		text = problem.Error()
	}
	cut := body
	if len(body) > MaxUnparsed {
		n := MaxUnparsed
		for n > MaxUnparsed-utf8.UTFMax && !utf8.RuneStart(body[n]) {
			n-- // do not split a multi-byte character
		}
		cut = body[:n]
		text += fmt.Sprintf(" (body cut from %d to %d bytes)", len(body), len(cut))
	}
	return care.Envelope{
		Version:    care.EnvelopeVersion,
		Kind:       care.KindUnparsed,
		Source:     source,
		EventID:    eventID,
		ReceivedAt: receivedAt,
		Unparsed:   strings.ToValidUTF8(string(cut), "\uFFFD"),
		Problem:    text,
	}
}

// ---- decoding helpers shared by both generations ----

// xid is an X id that may arrive as a JSON string or number. A number keeps its
// literal digits: it never goes through float64.
type xid string

func (x *xid) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*x = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*x = xid(s)
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		*x = xid(b)
	default:
		return fmt.Errorf("id %.20s is neither a string nor a number", b)
	}
	return nil
}

// count is a non-negative integer (followers) that may arrive as a number or a
// string; anything it cannot read becomes 0, since counts only feed priority.
type count int

func (c *count) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && n <= 1<<31-1 {
		*c = count(n)
	} else {
		*c = 0
	}
	return nil
}

// flag is a boolean that tolerates null, strings and numbers.
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	*f = s == "true" || s == "1"
	return nil
}

// user is a user object in either layout (v1.1 or v2), possibly wrapped in
// {"data": {...}} as XAA does.
type user struct {
	ID            xid    `json:"id"`
	IDStr         string `json:"id_str"`
	Username      string `json:"username"`
	ScreenName    string `json:"screen_name"`
	Name          string `json:"name"`
	Followers     count  `json:"followers_count"`
	Verified      flag   `json:"verified"`
	PublicMetrics struct {
		Followers count `json:"followers_count"`
	} `json:"public_metrics"`
	Data *user `json:"data"`
}

// profile is what a message keeps of its author.
type profile struct {
	handle    string
	name      string
	followers int
	verified  bool
}

// decodeUser reads one user object; ok is false when raw is not one.
func decodeUser(raw json.RawMessage) (id string, pr profile, ok bool) {
	var u user
	if err := json.Unmarshal(raw, &u); err != nil {
		return "", profile{}, false
	}
	if u.Data != nil {
		u = *u.Data
	}
	id = u.IDStr
	if id == "" {
		id = string(u.ID)
	}
	pr = profile{
		handle:    firstNonEmpty(u.Username, u.ScreenName),
		name:      u.Name,
		followers: int(max(u.Followers, u.PublicMetrics.Followers)),
		verified:  bool(u.Verified),
	}
	return id, pr, true
}

// users indexes user objects by id. Bad entries are skipped: profiles only decorate
// messages and must never make one fail.
type users map[string]profile

func (us users) addList(raw json.RawMessage) {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return
	}
	for _, r := range list {
		if id, pr, ok := decodeUser(r); ok && id != "" {
			us[id] = pr
		}
	}
}

// addMap reads a {"<id>": user} map (DM payloads).
func (us users) addMap(raw json.RawMessage) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return
	}
	for key, r := range m {
		id, pr, ok := decodeUser(r)
		if !ok {
			continue
		}
		if id == "" {
			id = key
		}
		us[id] = pr
	}
}

// v1Entities are the entities of a v1.1 tweet or a legacy DM.
type v1Entities struct {
	UserMentions []struct {
		IDStr      string `json:"id_str"`
		ScreenName string `json:"screen_name"`
	} `json:"user_mentions"`
	URLs []json.RawMessage `json:"urls"`
}

func (e *v1Entities) mentionIDs() []string {
	var ids []string
	for _, m := range e.UserMentions {
		ids = appendUnique(ids, m.IDStr)
	}
	return ids
}

// dmEvent is a direct_message_events item; both generations use this layout.
type dmEvent struct {
	Type             string `json:"type"`
	ID               xid    `json:"id"`
	CreatedTimestamp xid    `json:"created_timestamp"`
	MessageCreate    struct {
		Target struct {
			RecipientID xid `json:"recipient_id"`
		} `json:"target"`
		SenderID    xid `json:"sender_id"`
		MessageData struct {
			Text     string     `json:"text"`
			Entities v1Entities `json:"entities"`
		} `json:"message_data"`
	} `json:"message_create"`
}

// dms normalises a direct_message_events array. us holds the users map.
func (p *parser) dms(raw json.RawMessage, us users) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		p.addUnparsed(raw, fmt.Errorf("direct_message_events: %w", err))
		return
	}
	for _, item := range items {
		var ev dmEvent
		if err := json.Unmarshal(item, &ev); err != nil {
			p.addUnparsed(item, fmt.Errorf("direct message event: %w", err))
			continue
		}
		if ev.Type != "message_create" {
			p.res.drop(DropNotMessage, string(ev.ID))
			continue
		}
		mc := &ev.MessageCreate
		sender, recipient := string(mc.SenderID), string(mc.Target.RecipientID)
		if sender != p.brand.ID && recipient != p.brand.ID {
			p.res.drop(DropNotServed, string(ev.ID))
			continue
		}
		m := &care.Message{
			Channel:     care.DM,
			Direction:   care.Inbound,
			ID:          string(ev.ID),
			AuthorID:    sender,
			Text:        mc.MessageData.Text,
			RecipientID: recipient,
			HasURL:      len(mc.MessageData.Entities.URLs) > 0 || hasLink(mc.MessageData.Text),
		}
		m.MentionedIDs = mc.MessageData.Entities.mentionIDs()
		if sender == p.brand.ID {
			m.Direction = care.Outbound
		} else {
			m.Summoned = true // any inbound DM addresses the brand
		}
		us.decorate(m)
		var problem error
		m.CreatedAt, problem = parseMillis(string(ev.CreatedTimestamp))
		p.addMessage(m, item, problem)
	}
}

// decorate fills the author's profile from the index.
func (us users) decorate(m *care.Message) {
	pr, ok := us[m.AuthorID]
	if !ok {
		return
	}
	if m.AuthorHandle == "" {
		m.AuthorHandle = pr.handle
	}
	if m.AuthorName == "" {
		m.AuthorName = pr.name
	}
	if m.AuthorFollowers == 0 {
		m.AuthorFollowers = pr.followers
	}
	m.AuthorVerified = m.AuthorVerified || pr.verified
}

// classifyPost applies the drop rules shared by both generations to a post and
// sets its direction. It returns the drop reason, or "" to keep the post.
func (p *parser) classifyPost(m *care.Message, retweet bool) string {
	if retweet {
		return DropRetweet
	}
	if m.AuthorID == p.brand.ID {
		// The brand's own posts are not care, nor are its threads; a reply to its
		// own reply that mentions a customer continues that customer's
		// conversation (a second post, an update).
		m.Direction = care.Outbound
		m.Summoned = false
		if m.InReplyToUserID == "" || m.Customer() == "" {
			return DropOwnPost
		}
		return ""
	}
	m.Direction = care.Inbound
	return ""
}

// summons reports whether text or mentions address the brand.
func (p *parser) summons(text string, mentionIDs []string) bool {
	for _, id := range mentionIDs {
		if id == p.brand.ID {
			return true
		}
	}
	return mentionsHandle(text, p.brand.Handle)
}

// mentionsHandle reports whether text contains @handle as a whole mention,
// case-insensitively.
func mentionsHandle(text, handle string) bool {
	if handle == "" {
		return false
	}
	lt, lh := strings.ToLower(text), "@"+strings.ToLower(handle)
	for i := 0; i < len(lt); {
		j := strings.Index(lt[i:], lh)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(lh)
		if (start == 0 || !isHandleByte(lt[start-1])) && (end == len(lt) || !isHandleByte(lt[end])) {
			return true
		}
		i = start + 1
	}
	return false
}

func isHandleByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// hasLink reports whether text carries an http(s) link.
func hasLink(text string) bool {
	lt := strings.ToLower(text)
	return strings.Contains(lt, "https://") || strings.Contains(lt, "http://")
}

// parseMillis reads an epoch-milliseconds timestamp ("1787069035642").
func parseMillis(s string) (time.Time, error) {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}, fmt.Errorf("timestamp %q is not epoch milliseconds", s)
	}
	return time.UnixMilli(ms).UTC(), nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func appendUnique(list []string, s string) []string {
	if s == "" {
		return list
	}
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// keyList names the keys of an object for error messages, at most a few.
func keyList(m map[string]json.RawMessage) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, strconv.Quote(k))
	}
	slices.Sort(keys)
	if len(keys) > 5 {
		keys = append(keys[:5], "…")
	}
	return strings.Join(keys, ", ")
}
