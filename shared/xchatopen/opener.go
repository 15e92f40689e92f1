package xchatopen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/xchat"
)

// Opener opens X Chat messages with the brand's keys. Identities and Keys are
// required; without Signers no message verifies.
type Opener struct {
	// Identities are the brand's X Chat identities (UserID set to the
	// brand's id) by key version: the current one and those rotated out,
	// whose key changes still hold conversation keys.
	Identities map[string]*xchat.Identity
	// Keys keeps the conversation keys (SealedKeys).
	Keys ConversationKeyStore
	// Signers fetches a user's registered signing keys (XSigners); they are
	// cached for SignerTTL (DefaultSignerTTL when 0).
	Signers   Signers
	SignerTTL time.Duration
	// Now is the clock; nil is the wall's.
	Now func() time.Time

	cache signerCache
}

// payload is what Open reads of X's chat.* payload (care.Envelope.Raw).
type payload struct {
	EncodedEvent string `json:"encoded_event"`
	KeyChange    string `json:"conversation_key_change_event"`
	Signature    *struct {
		Signature        string `json:"signature"`
		SignatureVersion string `json:"signature_version"`
		PublicKeyVersion string `json:"public_key_version"`
	} `json:"message_event_signature"`
}

// Open opens env's X Chat message when it has no text: on success it sets
// the message's text and XChat.Verified; otherwise it leaves the text empty
// and says why in XChat.Problem. It returns an error only for a transient
// failure (X, DynamoDB or the sealer unreachable), for the caller to retry;
// env is then as it was.
func (o *Opener) Open(ctx context.Context, env *care.Envelope) error {
	m := env.Message
	if m == nil || m.XChat == nil || m.Text != "" {
		return nil
	}
	text, problem, err := o.open(ctx, m, env.Raw)
	switch {
	case err != nil:
		return err
	case problem != "":
		m.XChat.Verified, m.XChat.Problem = false, problem
	default:
		m.Text, m.XChat.Verified, m.XChat.Problem = text, true, ""
	}
	return nil
}

// open returns the message's text, or the problem that kept it closed, or a
// transient error.
func (o *Opener) open(ctx context.Context, m *care.Message, raw json.RawMessage) (text, problem string, err error) {
	var pl payload
	if err := json.Unmarshal(raw, &pl); err != nil || pl.EncodedEvent == "" {
		return "", "X's payload holds no encoded event", nil
	}
	var kcProblem string
	if pl.KeyChange != "" {
		if kcProblem, err = o.keyChangeBase64(ctx, pl.KeyChange); err != nil {
			return "", "", err
		}
	}
	ev, err := xchat.ParseEventBase64(pl.EncodedEvent)
	if err != nil {
		return "", "X's encoded event is not an X Chat event (malformed)", nil
	}
	if ev.Kind == xchat.KindKeyChange {
		if p, err := o.keyChange(ctx, ev); err != nil || p != "" {
			return "", p, err
		}
		return "", "a conversation key change, not a message: it holds no text", nil
	}
	if ev.Kind != xchat.KindMessage {
		return "", fmt.Sprintf("an X Chat %s event, not a message: it holds no text", ev.Kind), nil
	}
	if s := pl.Signature; s != nil {
		ev.AttachSignature(s.Signature, s.PublicKeyVersion, s.SignatureVersion)
	}
	if ev.SenderID != m.AuthorID || ev.ConversationID != m.XChat.ConversationID {
		return "", care.XChatUnverifiedPrefix + ": the encrypted event names another sender or conversation than X's payload", nil
	}
	if outsider(ev) {
		return "", care.XChatUnverifiedPrefix + ": its sender is not a participant of the one-to-one conversation", nil
	}
	msg, problem, err := o.decrypt(ctx, ev)
	if err != nil || problem != "" {
		if kcProblem != "" {
			problem += " (" + kcProblem + ")"
		}
		return "", problem, err
	}
	if msg.Content.Kind != xchat.ContentText || msg.Content.Text == "" {
		return "", fmt.Sprintf("verified X Chat %s content, which Pajarito does not show: it holds no text", msg.Content.Kind), nil
	}
	return msg.Content.Text, "", nil
}

// decrypt verifies and decrypts a message event with the conversation's kept
// keys; a sender whose key version is not among the cached keys is fetched
// again once (they may have registered new keys).
func (o *Opener) decrypt(ctx context.Context, ev *xchat.Event) (*xchat.Message, string, error) {
	keys, err := o.Keys.Keys(ctx, ev.ConversationID)
	if err != nil {
		return nil, "", err
	}
	defer keys.Zero()
	signers, cached, err := o.signers(ctx, ev.SenderID, false)
	if err != nil {
		return nil, problemOf(err, ev), transient(err)
	}
	msg, err := xchat.Decrypt(ev, keys, signers)
	if errors.Is(err, xchat.ErrUnverified) && cached {
		if signers, _, err = o.signers(ctx, ev.SenderID, true); err != nil {
			return nil, problemOf(err, ev), transient(err)
		}
		msg, err = xchat.Decrypt(ev, keys, signers)
	}
	if err != nil {
		return nil, problemOf(err, ev), nil
	}
	return msg, "", nil
}

// keyChangeBase64 takes the conversation key of a base64 key-change event.
func (o *Opener) keyChangeBase64(ctx context.Context, s string) (string, error) {
	ev, err := xchat.ParseEventBase64(s)
	if err != nil {
		return "the key change beside it is malformed", nil
	}
	return o.keyChange(ctx, ev)
}

// keyChange takes the conversation key a key-change event carries for one of
// the brand's identities, verified, and keeps it. It returns the problem that
// kept the key out, or a transient error.
func (o *Opener) keyChange(ctx context.Context, ev *xchat.Event) (string, error) {
	if ev.Kind != xchat.KindKeyChange {
		return fmt.Sprintf("the key change beside it is a %s event", ev.Kind), nil
	}
	if outsider(ev) {
		return "key change: its sender is not a participant of the one-to-one conversation", nil
	}
	signers, cached, err := o.signers(ctx, ev.SenderID, false)
	if err != nil {
		if err := transient(err); err != nil {
			return "", err
		}
		return "key change: " + problemOf(err, ev), nil
	}
	keys, err := o.conversationKeys(ev, signers)
	if errors.Is(err, xchat.ErrUnverified) && cached {
		if signers, _, err = o.signers(ctx, ev.SenderID, true); err != nil {
			return "key change: " + problemOf(err, ev), transient(err)
		}
		keys, err = o.conversationKeys(ev, signers)
	}
	if err != nil {
		return "key change: " + problemOf(err, ev), nil
	}
	defer keys.Zero()
	if err := o.Keys.Put(ctx, ev.ConversationID, keys); err != nil {
		return "", err
	}
	return "", nil
}

// conversationKeys tries the brand's identities, newest version first, and
// returns the first key that decrypts and verifies; else the error of the
// identity that got furthest (a bad signature over no key).
func (o *Opener) conversationKeys(ev *xchat.Event, signers xchat.SigningKeys) (xchat.ConversationKeys, error) {
	err := fmt.Errorf("%w: the brand holds no X Chat identity", xchat.ErrNoKey)
	for _, v := range slices.Backward(slices.Sorted(maps.Keys(o.Identities))) {
		keys, e := o.Identities[v].ConversationKeys(ev, signers)
		if e == nil {
			return keys, nil
		}
		if !errors.Is(e, xchat.ErrNoKey) || errors.Is(err, xchat.ErrNoKey) {
			err = e
		}
	}
	return nil, err
}

func (o *Opener) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// outsider reports whether ev's sender is not one of the two participants of
// a one-to-one conversation ("<user id>:<user id>"); the participants of other
// conversations are X's to check.
func outsider(ev *xchat.Event) bool {
	a, b, ok := strings.Cut(ev.ConversationID, ":")
	if !ok || !care.IsID(a) || !care.IsID(b) {
		return false
	}
	return ev.SenderID != a && ev.SenderID != b
}
