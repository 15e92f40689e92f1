package localdev

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/local/chatsdk"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xchat"
)

// chatCustomer is a customer on X's own Chat SDK (package chatsdk): the
// reply of shared/xchat/testdata/interop.mjs to "setup", a key change of a
// new one-to-one conversation with the brand and a first message.
type chatCustomer struct {
	CustomerKeys           string
	Customer               xchat.SigningKey
	ConversationID         string
	ConversationKeyVersion string
	KeyChange              struct {
		MessageID, EncodedMessageEventDetail, Signature, SignatureVersion, PublicKeyVersion string
	}
	ParticipantKeys []struct{ UserID, EncryptedKey, PublicKeyVersion string }
	Payload         xchat.SendPayload
}

// newChatCustomer makes customer a user of X Chat on the system's fake X, on
// X's SDK, who starts a conversation with the brand and writes text to it
// through X's routes, as X's apps do.
func newChatCustomer(t *testing.T, sys *System, brand, customer, text string) (*chatCustomer, string) {
	t.Helper()
	held := sys.XFake.PublicKeys(brand)
	if len(held) == 0 {
		t.Fatal("pajarito dev registered no X Chat keys for the brand with the fake X")
	}
	b := held[len(held)-1]
	var c chatCustomer
	chatsdk.Run(t, map[string]string{"op": "setup", "brandId": brand, "brandIdentityKey": b.PublicKey,
		"brandKeyVersion": b.Version, "customerId": customer, "text": text}, &c)
	k := c.Customer
	sys.XFake.AddPublicKeys(xfake.PublicKey{UserID: customer, Version: k.Version, PublicKey: k.IdentityPublicKey,
		SigningPublicKey: k.PublicKey, IdentityPublicKeySignature: k.IdentityPublicKeySignature})
	token, _ := sys.XFake.IssueOAuth2(customer)

	var participants []map[string]string
	for _, p := range c.ParticipantKeys {
		participants = append(participants, map[string]string{"user_id": p.UserID, "encrypted_conversation_key": p.EncryptedKey, "public_key_version": p.PublicKeyVersion})
	}
	kc := c.KeyChange
	body, _ := json.Marshal(map[string]any{
		"conversation_key_version": c.ConversationKeyVersion, "conversation_participant_keys": participants,
		"action_signatures": []any{map[string]any{"message_id": kc.MessageID, "encoded_message_event_detail": kc.EncodedMessageEventDetail,
			"message_event_signature": map[string]string{"signature": kc.Signature, "signature_version": kc.SignatureVersion, "public_key_version": kc.PublicKeyVersion}}},
	})
	req, _ := http.NewRequest(http.MethodPost, sys.XAPI+"/2/chat/conversations/"+brand+"/keys", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the customer's key change: HTTP %d", resp.StatusCode)
	}
	p := c.Payload
	if _, err := xapi.SendChatMessage(t.Context(), nil, sys.XAPI, token, brand, xapi.ChatMessage{
		MessageID: p.MessageID, EncodedMessageCreateEvent: p.EncryptedContent, EncodedMessageEventSignature: p.EncodedEventSignature,
	}); err != nil {
		t.Fatalf("the customer's message: %v", err)
	}
	return &c, token
}

// read decrypts the conversation as the customer's SDK does, from the events
// X keeps of it.
func (c *chatCustomer) read(t *testing.T, sys *System, brandKeys ...xchat.SigningKey) []chatsdk.Event {
	t.Helper()
	return chatsdk.Decrypt(t, chatsdk.Customer{Keys: c.CustomerKeys, UserID: c.Customer.UserID, KeyVersion: c.Customer.Version},
		append([]xchat.SigningKey{c.Customer}, brandKeys...), sys.XFake.ChatEvents(c.ConversationID))
}

// allHours opens the brand at every hour, so that what the test expects of the
// protocol does not depend on when it runs.
func allHours(cfg *config.Config) {
	for day := range cfg.Protocol.BusinessHours {
		cfg.Protocol.BusinessHours[day] = "00:00-24:00"
	}
	cfg.Protocol.Holidays = nil
}

// TestXChatEndToEnd is issue 18's "done when": a customer writes to the brand
// in X Chat with X's own SDK; the local system (webhook, queue, processor,
// store, agent API, reply sender, all as in AWS, with the fake X) reads the
// message, verified, classifies it, acknowledges it (in X Chat) and queues
// it; an agent answers from the
// agent API, the console's; the answer goes out encrypted and signed through
// X Chat's send route, once; and the customer's SDK reads it, verified as the
// brand's.
func TestXChatEndToEnd(t *testing.T) {
	root, cfg := repoConfig(t)
	allHours(cfg)
	sys := startQuiet(t, root, cfg)
	brand := cfg.Brand.ID
	const maria = "1862954300111222333"
	const hello = "Hola, me habéis cobrado dos veces el pedido 48213 y nadie me contesta. ¿Me devolvéis uno de los cargos?"
	customer, _ := newChatCustomer(t, sys, brand, maria, hello)

	// The message arrives as chat.received, is opened and goes through the
	// pipeline as any DM.
	var c *care.Case
	var msgs []care.StoredMessage
	var decisions []care.DecisionRecord
	waitUntil(t, 30*time.Second, "María's X Chat message, opened and decided", func() bool {
		ids, err := sys.Store.CustomerCases(t.Context(), maria, time.Time{})
		if err != nil || len(ids) == 0 {
			return false
		}
		if c, msgs, err = sys.Store.GetCase(t.Context(), ids[0]); err != nil || len(msgs) == 0 {
			return false
		}
		decisions, err = sys.Store.ListDecisions(t.Context(), c.ID)
		return err == nil && len(decisions) > 0
	})
	in := msgs[0].Message
	if in.Text != hello || in.XChat == nil || !in.XChat.Verified || in.XChat.Problem != "" || in.Encrypted() {
		t.Fatalf("the X Chat message was stored as %+v (X Chat %+v); want its text, verified", in, in.XChat)
	}
	if c.Channel != care.DM || c.CustomerID != maria {
		t.Errorf("case %+v: want María's DM case", c)
	}
	d := decisions[0]
	if d.Labels.Intent != "incident" || d.Department != "billing" || len(d.Replies) != 1 || d.Replies[0].Kind != care.ReplyAutoAck {
		t.Errorf("the decision %+v: want the double charge classified (an incident, for billing) and acknowledged, as any DM", d)
	}

	// An agent answers from the console's API.
	const answer = "Lo sentimos mucho, María: vemos el doble cargo del pedido 48213 y te devolvemos uno hoy mismo."
	body, _ := json.Marshal(agentapi.ReplyRequest{DraftID: "xchat-e2e-1", Text: answer, Channel: care.DM})
	req, _ := http.NewRequest(http.MethodPost, sys.URL+"/v1/cases/"+c.ID+"/replies", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+quietToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sent agentapi.ReplyResult
	json.NewDecoder(resp.Body).Decode(&sent)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		t.Fatalf("POST replies: HTTP %d %+v", resp.StatusCode, sent)
	}
	var reply care.ReplyStatus
	waitUntil(t, 30*time.Second, "the agent's reply, sent", func() bool {
		replies, err := sys.Store.ListReplies(t.Context(), c.ID)
		for _, r := range replies {
			if err == nil && strings.HasPrefix(r.Text, answer) {
				reply = r
			}
		}
		return reply.State == care.ReplySent || reply.State == care.ReplyFailed
	})
	if reply.State != care.ReplySent {
		t.Fatalf("the agent's reply: %+v", reply)
	}

	// X's webhook delivers the reply back (chat.sent): it is the reply
	// already recorded, not a second message.
	sys.XFake.WaitChatDeliveries()
	echoed := false
	for _, dl := range sys.XFake.ChatDeliveries() {
		echoed = echoed || dl.EventType == "chat.sent" && dl.MessageID == care.XChatReplyMessageID(reply.Key) && dl.Status == http.StatusOK
	}
	if !echoed {
		t.Fatalf("X delivered no chat.sent of the reply to the webhook: %+v", sys.XFake.ChatDeliveries())
	}
	waitUntil(t, 30*time.Second, "the inbound queue, drained", sys.Idle)
	_, msgs, err = sys.Store.GetCase(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var copies int
	for _, m := range msgs {
		if m.Direction == care.Outbound && strings.HasPrefix(m.Text, answer) {
			copies++
			if m.XChat == nil || m.XChat.EventID != care.XChatReplyMessageID(reply.Key) || m.ID != reply.XID {
				t.Errorf("the reply in the case: %+v (X Chat %+v); want it under the reply's X Chat message id", m.Message, m.XChat)
			}
		}
	}
	if copies != 1 {
		t.Errorf("the case holds %d copies of the agent's reply, want 1", copies)
	}

	// The customer's SDK reads the answer, verified as the brand's, once.
	brandKeys := sys.XFake.PublicKeys(brand)
	bk := brandKeys[len(brandKeys)-1]
	read := customer.read(t, sys, xchat.SigningKey{UserID: brand, Version: bk.Version, PublicKey: bk.SigningPublicKey,
		IdentityPublicKey: bk.PublicKey, IdentityPublicKeySignature: bk.IdentityPublicKeySignature})
	var got, acks int
	for _, m := range read {
		switch {
		case m.Type != "message" || m.SenderID != brand:
		case !m.Verified:
			t.Errorf("X's SDK read the brand's message unverified: %+v", m)
		case strings.HasPrefix(m.Content.Text, answer):
			got++
		case m.Content.Text == d.Replies[0].Text:
			acks++
		}
	}
	if got != 1 || acks != 1 {
		t.Errorf("X's SDK read the agent's answer %d times and the acknowledgement %d times in %+v; want each once", got, acks, read)
	}
	t.Logf("X's SDK read the conversation: %+v", read)
}

// waitUntil polls done until it holds, or fails the test after d.
func waitUntil(t *testing.T, d time.Duration, what string, done func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !done(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, d)
		}
	}
}
