package xchatopen_test

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/pajarito-care/pajarito/shared/local/chatsdk"
	"github.com/pajarito-care/pajarito/shared/xchat"
)

// sdkSetup is the reply of shared/xchat/testdata/interop.mjs to "setup": a
// customer on X's Chat SDK starts a conversation with the brand and writes.
type sdkSetup struct {
	Customer               xchat.SigningKey
	ConversationID         string
	ConversationKeyVersion string
	KeyChange              struct {
		MessageID, EncodedMessageEventDetail, Signature, SignatureVersion, PublicKeyVersion string
	}
	Payload xchat.SendPayload
}

// runSDK asks X's Chat SDK for a setup (package chatsdk).
func runSDK(t *testing.T, req any) *sdkSetup {
	t.Helper()
	var s sdkSetup
	chatsdk.Run(t, req, &s)
	return &s
}

// event frames what the SDK sends as the MessageEvent X relays: the detail
// (a key change's, or a message's MessageCreateEvent as union field 1) and,
// when sig is not empty, the encoded MessageEventSignature.
func event(t *testing.T, messageID, senderID, conversationID string, detail []byte, message bool, sig []byte) string {
	t.Helper()
	buf := thrift.NewTMemoryBuffer()
	p := thrift.NewTBinaryProtocolConf(buf, &thrift.TConfiguration{})
	ctx := t.Context()
	for i, s := range []string{"10", messageID, senderID, conversationID, "", "1700000000000"} {
		if s != "" {
			p.WriteFieldBegin(ctx, "", thrift.STRING, int16(i+1))
			p.WriteString(ctx, s)
		}
	}
	p.WriteFieldBegin(ctx, "", thrift.STRUCT, 7)
	if message {
		p.WriteFieldBegin(ctx, "", thrift.STRUCT, 1)
		buf.Write(detail)
		p.WriteFieldStop(ctx)
	} else {
		buf.Write(detail)
	}
	if sig != nil {
		p.WriteFieldBegin(ctx, "", thrift.STRUCT, 9)
		buf.Write(sig)
	}
	p.WriteFieldStop(ctx)
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// keyChangeSig encodes the key change's MessageEventSignature.
func keyChangeSig(t *testing.T, s *sdkSetup) []byte {
	buf := thrift.NewTMemoryBuffer()
	p := thrift.NewTBinaryProtocolConf(buf, &thrift.TConfiguration{})
	for i, v := range []string{s.KeyChange.Signature, s.KeyChange.PublicKeyVersion, s.KeyChange.SignatureVersion} {
		p.WriteFieldBegin(t.Context(), "", thrift.STRING, int16(i+1))
		p.WriteString(t.Context(), v)
	}
	p.WriteFieldStop(t.Context())
	return buf.Bytes()
}

func unb64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOpenSDKMessage: a customer on X's own Chat SDK writes to the brand; the
// Opener opens the message as X's webhook would deliver it (the key change in
// conversation_key_change_event, the message's signature in
// message_event_signature beside the encoded event, or inside it), and keeps
// a forged one closed.
func TestOpenSDKMessage(t *testing.T) {
	const hello = "Hola, mi pedido no llegó 📦"
	f := newFixture(t)
	brand := f.o.Identities[f.v.RecipientKeyVersion]
	s := runSDK(t, map[string]string{
		"op": "setup", "brandId": brand.UserID, "brandIdentityKey": brand.PublicKeys().Identity,
		"brandKeyVersion": brand.KeyVersion, "customerId": "2222", "text": hello,
	})
	f.x.keys = map[string][]xchat.SigningKey{s.Customer.UserID: {s.Customer}}
	keyChange := event(t, s.KeyChange.MessageID, s.Customer.UserID, s.ConversationID, unb64(t, s.KeyChange.EncodedMessageEventDetail), false, keyChangeSig(t, s))
	content := unb64(t, s.Payload.EncryptedContent)
	beside := map[string]any{
		"encoded_event":                 event(t, s.Payload.MessageID, s.Customer.UserID, s.ConversationID, content, true, nil),
		"conversation_key_change_event": keyChange,
		"message_event_signature": map[string]string{"signature": s.Payload.Signature,
			"signature_version": s.Payload.SignatureInfo.SignatureVersion, "public_key_version": s.Payload.SignatureInfo.PublicKeyVersion},
	}
	inside := map[string]any{"encoded_event": event(t, s.Payload.MessageID, s.Customer.UserID, s.ConversationID, content, true, unb64(t, s.Payload.EncodedEventSignature))}
	forged := map[string]any{"encoded_event": beside["encoded_event"], "message_event_signature": map[string]string{
		"signature": base64.StdEncoding.EncodeToString(make([]byte, 64)), "signature_version": "7", "public_key_version": s.Payload.SignatureInfo.PublicKeyVersion}}
	tests := []struct {
		name    string
		payload map[string]any
		text    string
	}{
		{"signature beside, with the key change", beside, hello},
		{"signature inside, the key kept", inside, hello},
		{"forged signature beside", forged, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, _ := json.Marshal(tt.payload)
			env := f.envelope(t, "", "")
			env.Raw, env.Message.AuthorID, env.Message.XChat.ConversationID = raw, s.Customer.UserID, s.ConversationID
			if err := f.o.Open(t.Context(), env); err != nil {
				t.Fatal(err)
			}
			if env.Message.Text != tt.text || (tt.text == "") != env.Message.XChat.Unverified() {
				t.Errorf("text %q, problem %q; want %q", env.Message.Text, env.Message.XChat.Problem, tt.text)
			}
		})
	}
}
