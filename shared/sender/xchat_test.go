package sender_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/localseal"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/xchat"
	"github.com/pajarito-care/pajarito/shared/xchatopen"
)

// withXChat gives the env's sender the brand's X Chat writer, on the fake X,
// and registers X Chat keys for the customer; it returns the customer's and
// the brand's identities.
func (e *env) withXChat() (customer, brand *xchat.Identity) {
	e.t.Helper()
	register := func(user string) *xchat.Identity {
		id, err := xchat.GenerateIdentity()
		if err != nil {
			e.t.Fatal(err)
		}
		id.UserID, id.KeyVersion = user, "1786000000000"
		reg, err := id.Registration()
		if err != nil {
			e.t.Fatal(err)
		}
		e.x.AddPublicKeys(xfake.PublicKey{UserID: user, Version: id.KeyVersion, PublicKey: reg.PublicKey, SigningPublicKey: reg.SigningPublicKey,
			IdentityPublicKeySignature: reg.IdentityPublicKeySignature, SigningPublicKeySignature: reg.SigningPublicKeySignature})
		return id
	}
	customer, brand = register(customerID), register(brandID)
	sealer, err := localseal.Open(e.t.TempDir())
	if err != nil {
		e.t.Fatal(err)
	}
	token, _ := e.x.IssueOAuth2(brandID)
	e.s.Chat = &xchatopen.Sender{Identity: brand, Keys: &xchatopen.SealedKeys{Items: e.st, Sealer: sealer, SealerID: sealer.String()},
		Token: func(context.Context) (string, error) { return token, nil }, BaseURL: e.x.URL, Now: e.clk.Now}
	return customer, brand
}

// customerXChat stores an X Chat message of the customer, opened, in their DM
// case, and returns the case id.
func (e *env) customerXChat(from, text string) string {
	e.t.Helper()
	e.seq++
	m := &care.Message{
		Channel: care.DM, Direction: care.Inbound, ID: strconv.FormatInt(1960000000000000000+int64(e.seq), 10), AuthorID: from, RecipientID: brandID,
		Text: text, Lang: "es", CreatedAt: e.clk.Now().Add(-2 * time.Minute), Summoned: true,
		XChat: &care.XChat{EventID: care.XChatReplyMessageID("customer-" + strconv.Itoa(e.seq)), ConversationID: xchat.OneToOne(brandID, from), Verified: true},
	}
	res, err := e.st.Append(e.t.Context(), &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage,
		Source: care.SourceXAA, ReceivedAt: e.clk.Now(), Message: m}, "sqs-"+m.ID)
	if err != nil || !res.Stored() {
		e.t.Fatalf("store the customer's X Chat message: %+v, %v", res, err)
	}
	return res.CaseID
}

// TestXChatReplyGoesInXChat: a DM reply in a case whose conversation is in X
// Chat goes there, encrypted, signed and under the reply's own message id,
// never as a plain DM; the customer opens it with their keys; the case holds
// it as the brand's X Chat message. A case whose latest DM is a plain one
// gets a plain DM; a customer without X Chat keys gets none, and the team is
// told why.
func TestXChatReplyGoesInXChat(t *testing.T) {
	e := newEnv(t)
	customer, brand := e.withXChat()
	chatCase := e.customerXChat(customerID, "Hola, ¿podéis cambiarme el asiento del vuelo PJ125?")
	req := agentDM(chatCase, "draft-xchat", "Hola María, ya tienes el asiento 12A en el PJ125. ^Ana")
	if failed := e.deliver(message(t, "x1", req, 1)); len(failed) != 0 {
		t.Fatalf("X Chat reply failed: %+v", e.lastOutcome("x1"))
	}
	if dms := e.posted("dm"); len(dms) != 0 {
		t.Fatalf("X got plain DMs %+v: the conversation is in X Chat", dms)
	}
	r := e.reply(chatCase, req.IdempotencyKey)
	if r.State != care.ReplySent || r.CostUSD == 0 {
		t.Fatalf("reply item = %+v", r.ReplyStatus)
	}
	_, msgs, _ := e.st.GetCase(t.Context(), chatCase)
	last := msgs[len(msgs)-1]
	if last.ID != r.XID || last.Direction != care.Outbound || last.Text != req.Text || last.XChat == nil ||
		last.XChat.EventID != care.XChatReplyMessageID(req.IdempotencyKey) || !last.XChat.Verified || last.XChat.ConversationID != xchat.OneToOne(brandID, customerID) {
		t.Errorf("the reply in the case: %+v (X Chat %+v)", last.Message, last.XChat)
	}

	// The customer opens what X holds: the brand's key change (Pajarito held
	// no key of the conversation), then the reply.
	events := e.x.ChatEvents(xchat.OneToOne(brandID, customerID))
	if len(events) != 2 {
		t.Fatalf("X holds %d events of the conversation, want the key change and the reply", len(events))
	}
	var signers xchat.SigningKeySet
	sk, _ := brand.SigningKey()
	if err := signers.Add(sk); err != nil {
		t.Fatal(err)
	}
	kc, _ := xchat.ParseEventBase64(events[0])
	keys, err := customer.ConversationKeys(kc, &signers)
	if err != nil {
		t.Fatalf("the customer opens the brand's key change: %v", err)
	}
	ev, _ := xchat.ParseEventBase64(events[1])
	m, err := xchat.Decrypt(ev, keys, &signers)
	if err != nil || m.Content.Text != req.Text || ev.MessageID != care.XChatReplyMessageID(req.IdempotencyKey) {
		t.Errorf("the customer reads %+v, %v; want %q under the reply's message id", m, err, req.Text)
	}

	// A conversation in plain DMs stays there.
	p := newEnv(t)
	p.withXChat()
	dmCase := p.customerDM("Hi, one more question about my booking")
	plain := agentDM(dmCase, "draft-plain", "Of course, María: what would you like to know? ^Ana")
	if failed := p.deliver(message(t, "x2", plain, 1)); len(failed) != 0 || len(p.posted("dm")) != 1 {
		t.Fatalf("plain DM: failed %v, X got %+v", failed, p.posted("dm"))
	}

	// A customer with no X Chat keys at X: failed, and the team told why.
	const stranger = "1862954300999999999"
	lost := e.customerXChat(stranger, "Hola, ¿me ayudáis?")
	orphan := agentDM(lost, "draft-orphan", "Claro, ¿en qué podemos ayudarte? ^Ana")
	orphan.RecipientID = stranger
	if failed := e.deliver(message(t, "x3", orphan, 1)); len(failed) != 0 {
		t.Fatalf("a reply that cannot be sent is not retried: failed %v", failed)
	}
	if o := e.reply(lost, orphan.IdempotencyKey); o.State != care.ReplyFailed || !strings.Contains(o.Reason, "no X Chat keys") {
		t.Errorf("reply to a customer without X Chat keys = %+v; want failed, saying why", o.ReplyStatus)
	}
	if alerts := e.notes.list(); len(alerts) != 1 || alerts[0].Kind != care.AlertReplyFailed || alerts[0].CaseID != lost {
		t.Errorf("alerts = %+v; want one reply_failed for %s", alerts, lost)
	}
}
