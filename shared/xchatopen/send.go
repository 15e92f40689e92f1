package xchatopen

import (
	"context"
	"fmt"
	"net/http"
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
// recipientID as message messageID. The answer's ID is the X id Pajarito
// gives the message (care.XChatMessageID), its ConversationID the
// conversation's. A conversation whose key the brand does not hold, or a
// text that cannot be encrypted, is an error wrapping xapi.ErrUnsendable;
// a brand not signed in with OAuth 2.0 wraps xapi.ErrOAuth2NotSignedIn or
// xapi.ErrOAuth2Refresh; X's answers are xapi's errors.
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
	defer keys.Zero()
	version := newest(keys)
	if version == "" {
		return nil, fmt.Errorf("xchatopen: %w: Pajarito holds no key of the X Chat conversation %s (the customer's key change never reached it, or came before the brand's keys were set up): answer in X's app",
			xapi.ErrUnsendable, conv)
	}
	p, err := id.EncryptMessageWithID(messageID, conv, keys[version], version, text)
	if err != nil {
		return nil, fmt.Errorf("xchatopen: %w: %w", xapi.ErrUnsendable, err)
	}
	tok, err := s.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("xchatopen: %w: %w", xapi.ErrNotSent, err)
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
