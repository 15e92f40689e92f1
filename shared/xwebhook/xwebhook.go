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
//
// A body is decoded in one pass of encoding/json/v2 (github.com/go-json-experiment/json
// until Go 1.27) into typed structs, with the options that keep it as liberal as
// encoding/json was (decodeOptions); each item keeps its own bytes, a slice of the
// body, as the envelope's Raw.
package xwebhook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/pajarito-care/pajarito/shared/care"
)

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
	// DropGroupChat: the brand's own message in an X Chat group conversation,
	// which answers no one customer.
	DropGroupChat = "group_chat"
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
	// Own are the brand's own posts of a page of posts (ParsePosts) that
	// answer no customer (dropped as DropOwnPost), as outbound messages: its
	// crisis statements and their updates, which the reply sender looks for
	// after an interrupted send.
	Own []care.Message
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
//
// The body is decoded in one pass (see delivery). The envelopes' Raw are slices of
// body, which must therefore not be modified while the Result is in use.
func Parse(body []byte, brand care.Brand, receivedAt time.Time) (*Result, error) {
	if !care.IsID(brand.ID) {
		return nil, fmt.Errorf("xwebhook: brand id %q is not a decimal X id", brand.ID)
	}
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("%w: body is not valid UTF-8", ErrMalformed)
	}
	var d delivery
	if err := decode(body, d.decode); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	p := newParser(brand, receivedAt)
	switch {
	case d.data.set:
		p.res.Generation, p.source = GenerationXAA, care.SourceXAA
		if err := p.xaa(&d); err != nil {
			return nil, err
		}
	case isAAA(d.names):
		p.res.Generation, p.source = GenerationAAA, care.SourceAAA
		if err := p.aaa(&d); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: object has neither XAA \"data\" nor AAA \"for_user_id\"/events keys (keys: %s)", ErrMalformed, keyList(d.names))
	}
	return &p.res, nil
}

// delivery is a webhook body after the one decoding pass: the members of its
// top-level object that either generation uses, each decoded into its own type, and
// the names of all members. Which generation the body is, and so which members
// count, is decided after the pass (an object's members come in any order); a
// member of the wrong shape is kept with its problem (see value) for that decision.
type delivery struct {
	names    []string // every top-level member name, in order, repeats included
	namesBuf [4]string

	// X Activity API
	data     value[xaaEvent]   // "data": its presence makes the body XAA
	includes value[expansions] // "includes" next to "data"

	// Account Activity API
	forUser   value[xid]       // "for_user_id"
	users     userSet          // "users"
	tweets    items[v1Tweet]   // "tweet_create_events"
	dms       items[dmEvent]   // "direct_message_events"
	deletes   items[v1Delete]  // "tweet_delete_events"
	userEvent value[userEvent] // "user_event"
}

// topNames are top-level names that either generation uses, so that recording
// them costs no copy.
var topNames = [...]string{"data", "includes", aaaForUser, "users", aaaTweets, aaaDMs, aaaDeletes, aaaUser,
	aaaReplay, "apps", "user_has_blocked", "is_blocked_by"}

// decode reads the body, which must be one JSON object and nothing more. A member
// whose name repeats replaces the earlier one, as in a Go map.
func (d *delivery) decode(dec *jsontext.Decoder) error {
	d.names = d.namesBuf[:0]
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case '{':
	case 'n':
		return errors.New("body is null, not an object")
	default:
		return fmt.Errorf("body is %s, not an object", kindName(tok.Kind()))
	}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if err := d.member(dec, tok.String()); err != nil {
			return err
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	return atEOF(dec)
}

// member records name and decodes its value.
func (d *delivery) member(dec *jsontext.Decoder, name string) error {
	if i := slices.Index(topNames[:], name); i >= 0 {
		d.names = append(d.names, topNames[i])
	} else {
		d.names = append(d.names, strings.Clone(name))
	}
	switch name {
	case "data":
		return d.data.UnmarshalJSONFrom(dec)
	case "includes":
		return d.includes.UnmarshalJSONFrom(dec)
	case aaaForUser:
		return d.forUser.UnmarshalJSONFrom(dec)
	case "users":
		return d.users.UnmarshalJSONFrom(dec)
	case aaaTweets:
		return d.tweets.UnmarshalJSONFrom(dec)
	case aaaDMs:
		return d.dms.UnmarshalJSONFrom(dec)
	case aaaDeletes:
		return d.deletes.UnmarshalJSONFrom(dec)
	case aaaUser:
		return d.userEvent.UnmarshalJSONFrom(dec)
	}
	return skipValue(dec) // only listed
}

func newParser(brand care.Brand, receivedAt time.Time) parser {
	return parser{
		brand:      care.Brand{ID: brand.ID, Handle: strings.TrimPrefix(brand.Handle, "@")},
		receivedAt: receivedAt.UTC(),
		res:        Result{DropCounts: map[string]int{}},
	}
}

// parser carries the state of one Parse call.
type parser struct {
	brand      care.Brand
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
func (p *parser) addMessage(m *care.Message, raw []byte, problem error) {
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

// ignored enqueues the count of an event of a type Pajarito does not handle.
func (p *parser) ignored(eventType string) {
	env := p.envelope(care.KindIgnored)
	env.Ignored = &care.Ignored{EventType: eventType}
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

// ---- the one decoding pass ----

// decodeOptions make the decoder exactly as liberal as encoding/json (v1), with
// which this package used to decode: v2 is stricter by default.
var decodeOptions = json.JoinOptions(
	// "ID" or "Author_Id" name the fields "id" and "author_id", as strings.EqualFold
	// matches them (v2 on its own would also ignore "_" and "-").
	json.MatchCaseInsensitiveNames(true),
	jsonv1.MatchCaseSensitiveDelimiter(true),
	// A repeated name is not an error: the last one wins, merged into what came
	// before as v1 does (a null keeps the earlier string, a later object adds to
	// the fields of the earlier one).
	jsontext.AllowDuplicateNames(true),
	jsonv1.MergeWithLegacySemantics(true),
	// Escapes of lone surrogates ("\ud800") decode to U+FFFD. Parse refuses bodies
	// that are not UTF-8 before decoding; ParsePosts takes includes as v1 did.
	jsontext.AllowInvalidUTF8(true),
)

// decoder is a jsontext.Decoder of one input and the bytes.Buffer it reads. It
// reads the buffer in place (jsontext does not copy a bytes.Buffer), so that the
// bytes of a value it has read are a slice of the input: see decodeValue.
type decoder struct {
	in  bytes.Buffer
	dec jsontext.Decoder
}

// decoders are reused: a decoder's state grows with the nesting of what it reads.
var decoders = sync.Pool{New: func() any { return new(decoder) }}

// decode calls f with a decoder of b.
func decode(b []byte, f func(*jsontext.Decoder) error) error {
	d := decoders.Get().(*decoder)
	d.in = *bytes.NewBuffer(b)
	d.dec.Reset(&d.in, decodeOptions)
	err := f(&d.dec)
	d.in = bytes.Buffer{}
	d.dec.Reset(&d.in) // let go of b
	decoders.Put(d)
	return err
}

// decodeValue decodes the next JSON value of dec into v and returns the value's own
// bytes, a slice of the decoder's input. Two kinds of failure are told apart: a
// problem is a value that is JSON but not of v's shape (a semantic error), after
// which the rest of the value has been read so that decoding goes on and the
// caller decides what the problem spoils; err is a syntax error, which ends the
// pass. After a problem, v holds what was decoded before it.
func decodeValue(dec *jsontext.Decoder, v any) (raw []byte, problem, err error) {
	start := mark(dec)
	depth := dec.StackDepth()
	_, length := dec.StackIndex(depth)
	if problem = json.UnmarshalDecode(dec, v); problem != nil {
		if !isSemantic(problem) {
			return nil, nil, problem
		}
		if err := skipRest(dec, depth, length); err != nil {
			return nil, nil, err
		}
	}
	return start.raw(dec), problem, nil
}

// position is where a value starts: the decoder's offset and unread bytes before it.
type position struct {
	offset int64
	unread []byte
}

// mark returns the position of the next value of dec.
func mark(dec *jsontext.Decoder) position {
	dec.PeekKind() // the first read fills the buffer with the whole input (decoder)
	return position{offset: dec.InputOffset(), unread: dec.UnreadBuffer()}
}

// raw returns the bytes read since the mark, without the separator and spaces
// before the value.
func (pos position) raw(dec *jsontext.Decoder) []byte {
	n := dec.InputOffset() - pos.offset
	if n > int64(len(pos.unread)) {
		panic("xwebhook: the decoder does not read its input in place")
	}
	return bytes.TrimLeft(pos.unread[:n], ",: \t\r\n")
}

// isSemantic reports whether err is about the shape of valid JSON rather than its
// syntax.
func isSemantic(err error) bool {
	var semantic *json.SemanticError
	var syntax *jsontext.SyntacticError
	return errors.As(err, &semantic) && !errors.As(err, &syntax)
}

// skipRest reads what is left of a value that began at depth after length tokens
// of its parent, where decoding stopped on a problem.
func skipRest(dec *jsontext.Decoder, depth int, length int64) error {
	for dec.StackDepth() > depth {
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
	}
	if _, n := dec.StackIndex(depth); n == length { // not begun
		return skipValue(dec)
	}
	return nil
}

// decodeWhole decodes b, which must hold one JSON value and nothing more, into v.
func decodeWhole(b []byte, v json.UnmarshalerFrom) error {
	return decode(b, func(dec *jsontext.Decoder) error {
		if err := v.UnmarshalJSONFrom(dec); err != nil {
			return err
		}
		return atEOF(dec)
	})
}

// atEOF checks that nothing but spaces follows the value just read.
func atEOF(dec *jsontext.Decoder) error {
	switch _, err := dec.ReadToken(); err {
	case io.EOF:
		return nil
	case nil:
		return errors.New("more data after the top-level value")
	default:
		return err
	}
}

// beginObject reads the '{' of an object and reports true. For a null it reads
// the null and reports false (an object without members); for a value of another
// kind, it reads it and reports false with a problem.
func beginObject(dec *jsontext.Decoder) (ok bool, err error) {
	switch k := dec.PeekKind(); k {
	case '{':
		_, err := dec.ReadToken()
		return err == nil, err
	case 'n':
		return false, skipValue(dec)
	default:
		if err := skipValue(dec); err != nil {
			return false, err
		}
		return false, fmt.Errorf("%s is not an object", kindName(k))
	}
}

// skipValue reads the next value whole, which is quicker than
// Decoder.SkipValue's reading it token by token.
func skipValue(dec *jsontext.Decoder) error {
	_, err := dec.ReadValue()
	return err
}

// kindName names a kind of JSON value for error messages.
func kindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "not a JSON value"
}

// value is one JSON value of the body decoded into T, kept with its own bytes and
// with the problem, if any, that kept it from decoding. A value of the wrong shape
// thus stays where it is: the caller decides whether it spoils the whole body
// (ErrMalformed), one item (quarantined as KindUnparsed) or nothing (ignored).
type value[T any] struct {
	val     T
	raw     []byte // the value as X wrote it, a slice of the body
	set     bool   // the member was present
	problem error  // why raw did not decode into val
}

// UnmarshalJSONFrom decodes the next value of dec. A member that repeats replaces
// the earlier one.
func (v *value[T]) UnmarshalJSONFrom(dec *jsontext.Decoder) (err error) {
	if v.set {
		*v = value[T]{}
	}
	v.set = true
	v.raw, v.problem, err = decodeValue(dec, &v.val)
	return err
}

// ok reports whether the value is present and of the right shape.
func (v *value[T]) ok() bool { return v.set && v.problem == nil }

// isNull reports whether the value is absent or JSON null.
func (v *value[T]) isNull() bool { return !v.set || string(v.raw) == "null" }

// items is a JSON array of X objects (posts, DM events), each kept as a value so
// that a bad one is quarantined on its own. An array that is null is empty; a
// value that is not an array is kept with its problem.
type items[T any] struct {
	list    []value[T]
	raw     []byte
	set     bool
	problem error
}

// UnmarshalJSONFrom decodes the next value of dec.
func (it *items[T]) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	*it = items[T]{set: true}
	start := mark(dec)
	switch k := dec.PeekKind(); k {
	case '[':
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		for dec.PeekKind() != ']' {
			it.list = append(it.list, value[T]{})
			if err := it.list[len(it.list)-1].UnmarshalJSONFrom(dec); err != nil {
				return err
			}
		}
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
	case 'n':
		if err := skipValue(dec); err != nil {
			return err
		}
	default:
		if err := skipValue(dec); err != nil {
			return err
		}
		it.problem = fmt.Errorf("%s is not an array", kindName(k))
	}
	it.raw = start.raw(dec)
	return nil
}

// isNull reports whether the array is absent or JSON null.
func (it *items[T]) isNull() bool { return !it.set || string(it.raw) == "null" }

// skipped is a value that is read and not kept.
type skipped struct{}

func (*skipped) UnmarshalJSONFrom(dec *jsontext.Decoder) error { return skipValue(dec) }

// present records whether a value is there and not null (retweeted_status).
type present bool

func (p *present) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	*p = dec.PeekKind() != 'n'
	return skipValue(dec)
}

// xid is an X id that may arrive as a JSON string or number. A number keeps its
// literal digits: it never goes through float64. null is "".
type xid string

func (x *xid) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch k := dec.PeekKind(); k {
	case '"':
		// As a string, which the decoder may have met before (the brand's id
		// often comes several times): it keeps recent ones and saves copies.
		return json.UnmarshalDecode(dec, (*string)(x))
	case 'n', '0':
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if k == 'n' {
			*x = ""
		} else {
			*x = xid(tok.String()) // a number's String is its literal
		}
		return nil
	default:
		if err := skipValue(dec); err != nil {
			return err
		}
		return fmt.Errorf("id is %s, neither a string nor a number", kindName(k))
	}
}

// count is a non-negative integer (followers) that may arrive as a number or a
// string; anything it cannot read becomes 0, since counts only feed priority.
type count int

func (c *count) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	*c = count(parseCount(bytes.Trim(v, `"`)))
	return nil
}

// parseCount reads s as strconv.ParseInt does (an optional sign and decimal
// digits) and returns it when it is between 0 and 2^31-1, or else 0.
func parseCount(s []byte) int {
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		if s[0] == '-' { // negative, -0 or not a number: 0 all the same
			return 0
		}
		s = s[1:]
	}
	if len(s) == 0 {
		return 0
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		if n = n*10 + int(c-'0'); n > 1<<31-1 {
			return 0
		}
	}
	return n
}

// flag is a boolean that tolerates null, strings and numbers: true, "true", 1 and
// "1" are true, anything else false.
type flag bool

func (f *flag) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	s := bytes.Trim(v, `"`)
	*f = string(s) == "true" || string(s) == "1"
	return nil
}

// links is an entities "urls" array, of which only the length counts.
type links int

func (l *links) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch k := dec.PeekKind(); k {
	case 'n':
		*l = 0
		return skipValue(dec)
	case '[':
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		n := 0
		for ; dec.PeekKind() != ']'; n++ {
			if err := skipValue(dec); err != nil {
				return err
			}
		}
		*l = links(n)
		_, err := dec.ReadToken()
		return err
	default:
		if err := skipValue(dec); err != nil {
			return err
		}
		return fmt.Errorf("urls is %s, not an array", kindName(k))
	}
}

// ---- users ----

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

// identity returns the user's id and profile.
func (u *user) identity() (id string, pr profile) {
	if u.Data != nil {
		u = u.Data
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
	return id, pr
}

// userSet is a "users" member: an object {"<id>": user} (DM payloads of both
// generations) or a list of users. Anything else is ignored.
type userSet struct {
	byKey []keyedUser // in the order of the body; a repeated key replaces the earlier
	list  items[user]
}

// keyedUser is a member of a users map.
type keyedUser struct {
	key  string
	user value[user]
}

// UnmarshalJSONFrom decodes the next value of dec. A repeated "users" replaces the
// earlier one.
func (s *userSet) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	*s = userSet{}
	switch dec.PeekKind() {
	case '{':
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		for dec.PeekKind() != '}' {
			tok, err := dec.ReadToken()
			if err != nil {
				return err
			}
			key := tok.String()
			s.byKey = slices.DeleteFunc(s.byKey, func(k keyedUser) bool { return k.key == key })
			s.byKey = append(s.byKey, keyedUser{key: key})
			if err := s.byKey[len(s.byKey)-1].user.UnmarshalJSONFrom(dec); err != nil {
				return err
			}
		}
		_, err := dec.ReadToken()
		return err
	case '[':
		return s.list.UnmarshalJSONFrom(dec)
	default:
		return skipValue(dec)
	}
}

// users indexes user objects by id. Bad entries are skipped: profiles only decorate
// messages and must never make one fail.
type users map[string]profile

// addList adds a list of users.
func (us users) addList(list *items[user]) {
	if list.problem != nil {
		return
	}
	for i := range list.list {
		if u := &list.list[i]; u.ok() {
			if id, pr := u.val.identity(); id != "" {
				us[id] = pr
			}
		}
	}
}

// addMap adds a {"<id>": user} map (DM payloads); a user without an id takes its key.
func (us users) addMap(s *userSet) {
	for i := range s.byKey {
		ku := &s.byKey[i]
		if !ku.user.ok() {
			continue
		}
		id, pr := ku.user.val.identity()
		if id == "" {
			id = ku.key
		}
		us[id] = pr
	}
}

// ---- direct messages, both generations ----

// v1Entities are the entities of a v1.1 tweet or a legacy DM.
type v1Entities struct {
	UserMentions []struct {
		IDStr      string `json:"id_str"`
		ScreenName string `json:"screen_name"`
	} `json:"user_mentions"`
	URLs links `json:"urls"`
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
func (p *parser) dms(events *items[dmEvent], us users) {
	if events.problem != nil {
		p.addUnparsed(events.raw, fmt.Errorf("direct_message_events: %w", events.problem))
		return
	}
	for i := range events.list {
		item := &events.list[i]
		if item.problem != nil {
			p.addUnparsed(item.raw, fmt.Errorf("direct message event: %w", item.problem))
			continue
		}
		ev := &item.val
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
			HasURL:      mc.MessageData.Entities.URLs > 0 || hasLink(mc.MessageData.Text),
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
		p.addMessage(m, item.raw, problem)
	}
}

// decorate fills the author's profile from the index.
func (us users) decorate(m *care.Message) {
	if pr, ok := us[m.AuthorID]; ok {
		pr.decorate(m)
	}
}

// decorate fills what m lacks of its author's profile from pr.
func (pr profile) decorate(m *care.Message) {
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

// hasLink reports whether text carries an http(s) link: "http://" or "https://"
// in any case. (No character but the ASCII letters lowercases to those of "https".)
func hasLink(text string) bool {
	for i := 0; i < len(text); i++ {
		if text[i]|('a'-'A') == 'h' && (hasLowerPrefix(text[i:], "http://") || hasLowerPrefix(text[i:], "https://")) {
			return true
		}
	}
	return false
}

// hasLowerPrefix reports whether s begins with prefix, lowercase ASCII, once the
// ASCII letters of s are lowercased.
func hasLowerPrefix(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
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
func isNull(raw []byte) bool {
	return len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// keyList names the keys of an object for error messages, at most a few.
func keyList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(names))
	for _, k := range names {
		keys = append(keys, strconv.Quote(k))
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if len(keys) > 5 {
		keys = append(keys[:5], "…")
	}
	return strings.Join(keys, ", ")
}
