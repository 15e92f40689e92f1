package xchatopen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xchat"
)

// Sender sends the brand's DMs in X Chat conversations (issue 18 §3,
// "Outgoing"): each text is encrypted under the conversation's newest kept
// key, signed with the brand's current X Chat identity, and sent with X's
// send route (xapi.SendChatMessage) under the message id its caller gives
// (the reply's own, care.XChatReplyMessageID, so that a retry is the same
// message). It implements sender.ChatWriter.
type Sender struct {
	// Identity is the brand's current X Chat identity (UserID and KeyVersion
	// set).
	Identity *xchat.Identity
	// Keys keeps the conversation keys the Opener took from key changes.
	Keys ConversationKeyStore
	// Token returns the brand's OAuth 2.0 access token (an
	// xapi.OAuth2Keeper's).
	Token func(context.Context) (string, error)
	// HTTP and BaseURL reach X (nil: http.DefaultClient; "": X).
	HTTP    *http.Client
	BaseURL string
	// Now is the clock; nil is the wall's.
	Now func() time.Time
}

// SendChat sends text to the brand's one-to-one X Chat conversation with
// recipientID as message messageID, under the conversation's newest kept key;
// a conversation whose key the brand does not hold gets a new one first
// (startConversation). The answer's ID is the X id Pajarito gives the
// message (care.XChatMessageID), its ConversationID the conversation's. What
// no retry mends (the recipient has no X Chat keys, a text that cannot be
// encrypted) is an error wrapping xapi.ErrUnsendable; a brand not signed in
// with OAuth 2.0 wraps xapi.ErrOAuth2NotSignedIn or xapi.ErrOAuth2Refresh;
// X's answers are xapi's errors.
func (s *Sender) SendChat(ctx context.Context, recipientID, messageID, text string) (*xapi.Sent, error) {
	id := s.Identity
	if id == nil || id.UserID == "" || id.KeyVersion == "" {
		return nil, fmt.Errorf("xchatopen: %w: the brand holds no X Chat keys (run pajarito xchat setup)", xapi.ErrUnsendable)
	}
	if !care.IsID(recipientID) || recipientID == id.UserID {
		return nil, fmt.Errorf("xchatopen: %w: the recipient %q is not another X user", xapi.ErrUnsendable, recipientID)
	}
	conv := xchat.OneToOne(id.UserID, recipientID)
	keys, err := s.Keys.Keys(ctx, conv)
	if err != nil {
		return nil, fmt.Errorf("xchatopen: %w: %w", xapi.ErrNotSent, err)
	}
	if keys == nil {
		keys = xchat.ConversationKeys{}
	}
	defer keys.Zero()
	tok, err := s.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("xchatopen: %w: %w", xapi.ErrNotSent, err)
	}
	version := newest(keys)
	if version == "" {
		// No key of the customer's reached Pajarito (their key change came
		// before the brand's keys were set up, say): the brand gives the
		// conversation one, as X's apps do when they start a conversation.
		if version, err = s.startConversation(ctx, tok, recipientID, conv, keys); err != nil {
			return nil, err
		}
	}
	p, err := id.EncryptMessageWithID(messageID, conv, keys[version], version, text)
	if err != nil {
		return nil, fmt.Errorf("xchatopen: %w: %w", xapi.ErrUnsendable, err)
	}
	sent, err := xapi.SendChatMessage(ctx, s.HTTP, s.BaseURL, tok, recipientID, xapi.ChatMessage{
		MessageID: p.MessageID, EncodedMessageCreateEvent: p.EncryptedContent, EncodedMessageEventSignature: p.EncodedEventSignature,
	})
	if err != nil {
		return nil, err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return &xapi.Sent{ID: care.XChatMessageID(messageID, now()), ConversationID: conv, RateLimit: sent.RateLimit}, nil
}

// startConversation gives the conversation a new key: it reads the
// recipient's keys at X (the newest version whose identity key is bound to
// its signing key), encrypts a new key to the recipient and the brand, sends
// the signed change to X, keeps the key (Keys) and adds it to keys. It
// returns the key's version. Until X has the change, nothing has been sent:
// X unreachable wraps xapi.ErrNotSent, to be retried.
func (s *Sender) startConversation(ctx context.Context, tok, recipientID, conv string, keys xchat.ConversationKeys) (string, error) {
	listed, err := xapi.PublicKeys(ctx, s.HTTP, s.BaseURL, tok, recipientID)
	switch {
	case err != nil && xapi.IsRetryable(err):
		return "", fmt.Errorf("xchatopen: read the recipient's X Chat keys: %w: %w", xapi.ErrNotSent, err)
	case err != nil:
		return "", fmt.Errorf("xchatopen: %w: X refused the recipient's X Chat keys (%w): answer in X's app", xapi.ErrUnsendable, err)
	}
	r, ok := recipient(listed)
	if !ok {
		return "", fmt.Errorf("xchatopen: %w: user %s has no X Chat keys registered with X (or none bound to their signing key), and Pajarito holds no key of the conversation %s: answer in X's app",
			xapi.ErrUnsendable, recipientID, conv)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	kc, err := s.Identity.NewKeyChange(recipientID, strconv.FormatInt(now().UnixMilli(), 10), []xchat.Recipient{r})
	if err != nil {
		return "", fmt.Errorf("xchatopen: %w: %w", xapi.ErrUnsendable, err)
	}
	change := xapi.ConversationKeyChange{ConversationKeyVersion: kc.KeyVersion, ActionSignatures: []xapi.ActionSignature{{
		MessageID: kc.MessageID, EncodedMessageEventDetail: kc.EncodedMessageEventDetail,
		MessageEventSignature: xapi.EventSignature{Signature: kc.Signature, SignatureVersion: kc.SignatureVersion, PublicKeyVersion: kc.PublicKeyVersion},
	}}}
	for _, pk := range kc.ParticipantKeys {
		change.ParticipantKeys = append(change.ParticipantKeys, xapi.ParticipantKey{UserID: pk.UserID, EncryptedConversationKey: pk.EncryptedKey, PublicKeyVersion: pk.PublicKeyVersion})
	}
	fresh := xchat.ConversationKeys{kc.KeyVersion: kc.Key}
	if err := xapi.AddConversationKeys(ctx, s.HTTP, s.BaseURL, tok, recipientID, change); err != nil {
		fresh.Zero()
		var te *xapi.TransportError
		if errors.As(err, &te) {
			// Whether X took the change or not, no message went out: a
			// retry makes another change.
			err = fmt.Errorf("%w: %w", xapi.ErrNotSent, err)
		}
		return "", fmt.Errorf("xchatopen: start the X Chat conversation %s: %w", conv, err)
	}
	if err := s.Keys.Put(ctx, conv, fresh); err != nil {
		fresh.Zero()
		return "", fmt.Errorf("xchatopen: %w: %w", xapi.ErrNotSent, err)
	}
	keys[kc.KeyVersion] = kc.Key
	return kc.KeyVersion, nil
}

// recipient is the newest of a user's registered keys whose identity key is
// bound to its signing key.
func recipient(listed []xapi.RegisteredKey) (xchat.Recipient, bool) {
	var r xchat.Recipient
	for _, k := range listed {
		var set xchat.SigningKeySet
		if set.Add(xchat.SigningKey(k)) != nil {
			continue
		}
		if len(k.Version) > len(r.KeyVersion) || len(k.Version) == len(r.KeyVersion) && k.Version > r.KeyVersion {
			r = xchat.Recipient{UserID: k.UserID, PublicKey: k.IdentityPublicKey, KeyVersion: k.Version}
		}
	}
	return r, r.PublicKey != ""
}

// newest returns the newest key version (versions are times in
// milliseconds: the longer, then the greater, is the newer); "" for none.
func newest(keys xchat.ConversationKeys) string {
	var v string
	for k := range keys {
		if len(k) > len(v) || len(k) == len(v) && k > v {
			v = k
		}
	}
	return v
}
