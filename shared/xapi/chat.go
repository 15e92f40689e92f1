package xapi

// X Chat's send route, as documented on docs.x.com (x-api/chat/send-chat-
// message, 2026): POST /2/chat/conversations/{id}/messages, {id} the
// recipient's user id for a one-to-one conversation, with the body
// {"message_id", "encoded_message_create_event", "encoded_message_event_
// signature", "conversation_token"}, and the brand's OAuth 2.0 user-context
// token (dm.write). The answer's data is read for the conversation id and
// the sequence id X assigned, when it has them; nothing else of it is relied
// on.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/pajarito-care/pajarito/shared/care"
)

// EndpointSendChat is X Chat's send route, as named in errors and backoffs.
const EndpointSendChat = "POST /2/chat/conversations/:id/messages"

// ChatMessage is an encrypted and signed X Chat message, as the send route
// takes it (xchat.SendPayload holds its parts).
type ChatMessage struct {
	// MessageID is the message's id, which its signature covers: a retry of
	// the same message keeps it.
	MessageID string `json:"message_id"`
	// EncodedMessageCreateEvent is the base64 Thrift MessageCreateEvent.
	EncodedMessageCreateEvent string `json:"encoded_message_create_event"`
	// EncodedMessageEventSignature is the base64 Thrift MessageEventSignature.
	EncodedMessageEventSignature string `json:"encoded_message_event_signature,omitempty"`
	// ConversationToken is the conversation's token, when X gave one.
	ConversationToken string `json:"conversation_token,omitempty"`
}

// ChatSent is X's answer to a sent X Chat message.
type ChatSent struct {
	// ConversationID and SequenceID are what X answered, when it did.
	ConversationID, SequenceID string
	// RateLimit is what X's x-rate-limit-* headers said.
	RateLimit RateLimit
}

// SendChatMessage sends m to the one-to-one X Chat conversation with the user
// recipientID, as the user whose OAuth 2.0 access token it is, through hc
// (nil: http.DefaultClient); baseURL "" is X. A request that cannot be sent
// (no recipient, no message) wraps ErrNotSent; other errors are *APIError,
// *RateLimitedError or *TransportError, and never hold the token.
func SendChatMessage(ctx context.Context, hc *http.Client, baseURL, accessToken, recipientID string, m ChatMessage) (*ChatSent, error) {
	switch {
	case !care.IsID(recipientID):
		return nil, fmt.Errorf("xapi: %s: the recipient, %q, is not a decimal X user id: %w", EndpointSendChat, recipientID, ErrNotSent)
	case m.MessageID == "" || m.EncodedMessageCreateEvent == "":
		return nil, fmt.Errorf("xapi: %s: the message has no id or no encrypted event: %w", EndpointSendChat, ErrNotSent)
	}
	var out struct {
		Data struct {
			ConversationID string `json:"conversation_id"`
			SequenceID     string `json:"sequence_id"`
		} `json:"data"`
	}
	rl, err := oauth2Call(ctx, hc, baseURL, accessToken, EndpointSendChat, http.MethodPost,
		"/2/chat/conversations/"+url.PathEscape(recipientID)+"/messages", m, &out)
	if err != nil {
		return nil, err
	}
	return &ChatSent{ConversationID: out.Data.ConversationID, SequenceID: out.Data.SequenceID, RateLimit: rl}, nil
}

// EndpointChatKeys is X Chat's route that adds (initialises or rotates) a
// conversation's keys.
const EndpointChatKeys = "POST /2/chat/conversations/:id/keys"

// ConversationKeyChange is a new conversation key for X's add-conversation-
// keys route (docs.x.com x-api/chat/add-conversation-keys): the key encrypted
// to each participant, and the signed change (xchat.KeyChange holds them).
type ConversationKeyChange struct {
	ConversationKeyVersion string            `json:"conversation_key_version"`
	ParticipantKeys        []ParticipantKey  `json:"conversation_participant_keys"`
	ActionSignatures       []ActionSignature `json:"action_signatures"`
}

// ParticipantKey is a participant's copy of a conversation key.
type ParticipantKey struct {
	UserID                   string `json:"user_id"`
	EncryptedConversationKey string `json:"encrypted_conversation_key"`
	PublicKeyVersion         string `json:"public_key_version"`
}

// ActionSignature is a signed conversation change.
type ActionSignature struct {
	MessageID                 string         `json:"message_id"`
	EncodedMessageEventDetail string         `json:"encoded_message_event_detail"`
	MessageEventSignature     EventSignature `json:"message_event_signature"`
}

// EventSignature is a change's signature and the versions of its signing key
// and of the signature scheme.
type EventSignature struct {
	Signature        string `json:"signature"`
	SignatureVersion string `json:"signature_version"`
	PublicKeyVersion string `json:"public_key_version"`
}

// AddConversationKeys sends kc, a new key of the one-to-one X Chat
// conversation with the user recipientID, to X (POST
// /2/chat/conversations/{id}/keys) as the user whose OAuth 2.0 access token
// it is. Errors are those of SendChatMessage.
func AddConversationKeys(ctx context.Context, hc *http.Client, baseURL, accessToken, recipientID string, kc ConversationKeyChange) error {
	if !care.IsID(recipientID) {
		return fmt.Errorf("xapi: %s: the recipient, %q, is not a decimal X user id: %w", EndpointChatKeys, recipientID, ErrNotSent)
	}
	var out struct{}
	_, err := oauth2Call(ctx, hc, baseURL, accessToken, EndpointChatKeys, http.MethodPost,
		"/2/chat/conversations/"+url.PathEscape(recipientID)+"/keys", kc, &out)
	return err
}
