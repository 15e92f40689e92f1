package xchat

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
)

// An Event is a parsed X Chat MessageEvent: its plaintext metadata and which
// detail it carries. Parsing needs no keys and trusts nothing: the metadata
// is what the relay says until [Decrypt] or [Identity.ConversationKeys]
// verifies the event's signature.
type Event struct {
	SequenceID     string    // backend sequence id (unsigned metadata)
	MessageID      string    // sender-chosen message id (signed)
	SenderID       string    // sender's user id (signed)
	ConversationID string    // conversation id, "<low>:<high>" for one-to-one (signed)
	CreatedAt      time.Time // creation time; zero if absent (unsigned metadata)
	Kind           Kind      // which detail the event carries

	// KeyVersion is the conversation key version: the version a message is
	// encrypted under, or the version a key change introduces.
	KeyVersion string

	// ParticipantKeys are a key change's encrypted conversation keys, one
	// per participant.
	ParticipantKeys []ParticipantKey

	// Failure describes a failure event's cause; nil for other kinds.
	Failure *Failure

	// SigningKeyVersion and SignatureVersion come from the event's
	// signature: the version of the sender's signing key and of the
	// signature protocol. Both are empty on unsigned events.
	SigningKeyVersion string
	SignatureVersion  string

	hasMessageID, hasSenderID, hasConversationID bool
	msg                                          *messageCreate
	sig                                          *eventSignature
}

// A ParticipantKey is one participant's copy of a conversation key,
// encrypted to that participant's identity key (base64 ECIES output).
type ParticipantKey struct {
	UserID           string `json:"userId"`
	EncryptedKey     string `json:"encryptedKey"`
	PublicKeyVersion string `json:"publicKeyVersion"`
}

// messageCreate is a MessageCreateEvent.
type messageCreate struct {
	contents                []byte
	keyVersion              string
	ttlMsec                 int64
	hasContents, hasKeyVer  bool
	shouldNotify, hasNotify bool
	hasTTL                  bool
}

// eventSignature is a MessageEventSignature.
type eventSignature struct {
	signature    string
	hasSignature bool
}

// ParseEventBase64 parses a base64-encoded event, as webhooks deliver it.
// Standard base64 with or without padding is accepted.
func ParseEventBase64(s string) (*Event, error) {
	b, err := decodeBase64(s)
	if err != nil {
		return nil, malformed("event is not base64", err)
	}
	return ParseEvent(b)
}

// ParseEvent parses a Thrift-encoded MessageEvent. Errors wrap ErrMalformed.
func ParseEvent(b []byte) (*Event, error) {
	d := newDecoder(b)
	ev, err := d.event()
	if err != nil {
		return nil, malformed("event", err)
	}
	if d.buf.Len() != 0 {
		return nil, malformed("trailing bytes after event", nil)
	}
	return ev, nil
}

// event reads a MessageEvent.
func (d *decoder) event() (*Event, error) {
	ev := &Event{}
	var created string
	err := d.fields(func(id int16, t thrift.TType) error {
		switch id {
		case 1:
			return d.str(t, &ev.SequenceID, nil)
		case 2:
			return d.str(t, &ev.MessageID, &ev.hasMessageID)
		case 3:
			return d.str(t, &ev.SenderID, &ev.hasSenderID)
		case 4:
			return d.str(t, &ev.ConversationID, &ev.hasConversationID)
		case 6:
			return d.str(t, &created, nil)
		case 7:
			if t != thrift.STRUCT {
				return d.skip(t)
			}
			return d.detail(ev)
		case 9:
			if t != thrift.STRUCT {
				return d.skip(t)
			}
			return d.signature(ev)
		}
		return d.skip(t)
	})
	if err != nil {
		return nil, err
	}
	if ms, err := strconv.ParseInt(created, 10, 64); err == nil {
		ev.CreatedAt = time.UnixMilli(ms)
	}
	return ev, nil
}

// detail reads the MessageEventDetail union. A union holding only variants
// this package does not know leaves the event's Kind at KindUnknown.
func (d *decoder) detail(ev *Event) error {
	id, err := d.union(func(id int16) bool { return kindOf(id) != KindUnknown }, func(id int16, _ thrift.TType) error {
		switch kindOf(id) {
		case KindMessage:
			return d.messageCreate(ev)
		case KindKeyChange:
			return d.keyChange(ev)
		case KindFailure:
			return d.failure(ev)
		}
		return d.skip(thrift.STRUCT)
	})
	ev.Kind = kindOf(id)
	return err
}

// messageCreate reads a MessageCreateEvent.
func (d *decoder) messageCreate(ev *Event) error {
	m := &messageCreate{}
	ev.msg = m
	err := d.fields(func(id int16, t thrift.TType) error {
		switch id {
		case 100:
			return d.binary(t, &m.contents, &m.hasContents)
		case 101:
			return d.str(t, &m.keyVersion, &m.hasKeyVer)
		case 102:
			return d.boolean(t, &m.shouldNotify, &m.hasNotify)
		case 103:
			return d.i64(t, &m.ttlMsec, &m.hasTTL)
		}
		return d.skip(t)
	})
	ev.KeyVersion = m.keyVersion
	return err
}

// keyChange reads a ConversationKeyChangeEvent.
func (d *decoder) keyChange(ev *Event) error {
	return d.fields(func(id int16, t thrift.TType) error {
		switch id {
		case 1:
			return d.str(t, &ev.KeyVersion, nil)
		case 2:
			return d.list(t, func(elem thrift.TType) error {
				if elem != thrift.STRUCT {
					return d.skip(elem)
				}
				var pk ParticipantKey
				err := d.fields(func(id int16, t thrift.TType) error {
					switch id {
					case 1:
						return d.str(t, &pk.UserID, nil)
					case 2:
						return d.str(t, &pk.EncryptedKey, nil)
					case 3:
						return d.str(t, &pk.PublicKeyVersion, nil)
					}
					return d.skip(t)
				})
				ev.ParticipantKeys = append(ev.ParticipantKeys, pk)
				return err
			})
		}
		return d.skip(t)
	})
}

// failure reads a MessageFailureEvent.
func (d *decoder) failure(ev *Event) error {
	f := &Failure{}
	ev.Failure = f
	var typ, tier int32
	var ok bool
	return d.fields(func(id int16, t thrift.TType) error {
		switch id {
		case 1:
			err := d.i32(t, &typ, &ok)
			f.Type = FailureType(typ)
			return err
		case 2:
			err := d.i32(t, &tier, &ok)
			f.RateLimitTier = RateLimitTier(tier)
			return err
		}
		return d.skip(t)
	})
}

// signature reads a MessageEventSignature.
func (d *decoder) signature(ev *Event) error {
	s := &eventSignature{}
	ev.sig = s
	return d.fields(func(id int16, t thrift.TType) error {
		switch id {
		case 1:
			return d.str(t, &s.signature, &s.hasSignature)
		case 2:
			return d.str(t, &ev.SigningKeyVersion, nil)
		case 3:
			return d.str(t, &ev.SignatureVersion, nil)
		}
		return d.skip(t)
	})
}

// decodeBase64 decodes standard base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "=") || len(s)%4 == 0 {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// AttachSignature gives an event that carries no signature the one delivered
// beside it (X's webhooks send a message's signature in the payload's
// message_event_signature, next to its encoded_event): the raw signature in
// base64, the sender's signing key version and the signature version. It
// never replaces a signature the event carries, and reports whether it
// attached this one. Like the event's own, the signature is trusted only
// once Decrypt or ConversationKeys verifies it.
func (ev *Event) AttachSignature(signature, signingKeyVersion, signatureVersion string) bool {
	if ev == nil || signature == "" || (ev.sig != nil && ev.sig.hasSignature) {
		return false
	}
	ev.sig = &eventSignature{signature: signature, hasSignature: true}
	ev.SigningKeyVersion, ev.SignatureVersion = signingKeyVersion, signatureVersion
	return true
}
