package xchatopen_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/chatsdk"
	"github.com/pajarito-care/pajarito/shared/local/localseal"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xchat"
	"github.com/pajarito-care/pajarito/shared/xchatopen"
)

// sendFixture is the brand's Sender on the fake X, with a customer on X's SDK
// who registered X Chat keys but never wrote: Pajarito holds no key of their
// conversation.
type sendFixture struct {
	x        *xfake.Server
	brand    *xchat.Identity
	sender   *xchatopen.Sender
	customer *sdkSetup
	keys     string // the customer's private keys, for the SDK
}

const brandID, customerID = "1590000000000000001", "1862954300111222333"

func newSendFixture(t *testing.T) *sendFixture {
	t.Helper()
	x := xfake.Start()
	t.Cleanup(x.Close)
	brand, err := xchat.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	brand.UserID, brand.KeyVersion = brandID, "1790000000000"
	reg, err := brand.Registration()
	if err != nil {
		t.Fatal(err)
	}
	x.AddPublicKeys(xfake.PublicKey{UserID: brandID, Version: brand.KeyVersion, PublicKey: reg.PublicKey, SigningPublicKey: reg.SigningPublicKey,
		IdentityPublicKeySignature: reg.IdentityPublicKeySignature, SigningPublicKeySignature: reg.SigningPublicKeySignature})
	var s struct {
		sdkSetup
		CustomerKeys string
	}
	chatsdk.Run(t, map[string]string{"op": "setup", "brandId": brandID, "brandIdentityKey": brand.PublicKeys().Identity,
		"brandKeyVersion": brand.KeyVersion, "customerId": customerID, "text": "(never sent)"}, &s)
	c := s.Customer
	x.AddPublicKeys(xfake.PublicKey{UserID: customerID, Version: c.Version, PublicKey: c.IdentityPublicKey,
		SigningPublicKey: c.PublicKey, IdentityPublicKeySignature: c.IdentityPublicKeySignature})
	sealer, err := localseal.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	token, _ := x.IssueOAuth2(brandID)
	return &sendFixture{x: x, brand: brand, customer: &s.sdkSetup, keys: s.CustomerKeys, sender: &xchatopen.Sender{
		Identity: brand, Keys: &xchatopen.SealedKeys{Items: storetest.New(t), Sealer: sealer, SealerID: sealer.String()},
		Token:   func(context.Context) (string, error) { return token, nil },
		BaseURL: x.URL,
	}}
}

// read is the conversation as the customer's SDK decrypts it.
func (f *sendFixture) read(t *testing.T) []chatsdk.Event {
	t.Helper()
	self, err := f.brand.SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	return chatsdk.Decrypt(t, chatsdk.Customer{Keys: f.keys, UserID: customerID, KeyVersion: f.customer.Customer.Version},
		[]xchat.SigningKey{f.customer.Customer, self}, f.x.ChatEvents(xchat.OneToOne(brandID, customerID)))
}

// TestSendStartsConversation: with no key of the customer's conversation, the
// Sender gives it one (a key change for the customer and the brand, signed),
// then sends; X's SDK reads both, verified. The next message reuses the key;
// a retry of a message, with its id, is the same message to X.
func TestSendStartsConversation(t *testing.T) {
	f := newSendFixture(t)
	const first, second = "Hola, te escribimos por aquí para seguir con tu reserva.", "¿Nos confirmas la fecha del vuelo?"
	id1, id2 := care.XChatReplyMessageID("r1"), care.XChatReplyMessageID("r2")
	sent, err := f.sender.SendChat(t.Context(), customerID, id1, first)
	if err != nil {
		t.Fatal(err)
	}
	if sent.ConversationID != xchat.OneToOne(brandID, customerID) || !care.IsID(sent.ID) {
		t.Errorf("sent %+v: want the conversation and an X id", sent)
	}
	if _, err := f.sender.SendChat(t.Context(), customerID, id2, second); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sender.SendChat(t.Context(), customerID, id2, second); err != nil {
		t.Fatalf("a retry of the second message: %v", err)
	}
	got := f.read(t)
	want := []chatsdk.Event{{Type: "keyChange", SenderID: brandID}, {Type: "message", SenderID: brandID}, {Type: "message", SenderID: brandID}}
	want[1].Content.Text, want[2].Content.Text = first, second
	if len(got) != len(want) {
		t.Fatalf("X's SDK read %+v; want one key change and two messages", got)
	}
	for i := range want {
		if g := got[i]; g.Type != want[i].Type || g.SenderID != want[i].SenderID || g.Content.Text != want[i].Content.Text || !g.Verified {
			t.Errorf("event %d read as %+v, want %+v, verified", i, g, want[i])
		}
	}
	if n := f.x.ChatRepeats(); n != 1 {
		t.Errorf("X saw %d repeated messages, want 1 (the retry)", n)
	}
}

// TestSendRefusals: what no retry mends wraps xapi.ErrUnsendable, and says
// what to do; a brand not signed in is the OAuth 2.0 error.
func TestSendRefusals(t *testing.T) {
	f := newSendFixture(t)
	tests := []struct {
		name      string
		recipient string
		sender    func(s xchatopen.Sender) *xchatopen.Sender
		want      error
	}{
		{"a recipient without X Chat keys", "1862954300999999999", nil, xapi.ErrUnsendable},
		{"the brand itself", brandID, nil, xapi.ErrUnsendable},
		{"no X Chat keys of the brand's", customerID, func(s xchatopen.Sender) *xchatopen.Sender { s.Identity = nil; return &s }, xapi.ErrUnsendable},
		{"not signed in", customerID, func(s xchatopen.Sender) *xchatopen.Sender {
			s.Token = func(context.Context) (string, error) { return "", xapi.ErrOAuth2NotSignedIn }
			return &s
		}, xapi.ErrOAuth2NotSignedIn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := f.sender
			if tt.sender != nil {
				s = tt.sender(*f.sender)
			}
			_, err := s.SendChat(t.Context(), tt.recipient, care.XChatReplyMessageID(tt.name), "hola")
			if !errors.Is(err, tt.want) {
				t.Errorf("SendChat = %v, want %v", err, tt.want)
			}
		})
	}
	if events := f.x.ChatEvents(xchat.OneToOne(brandID, customerID)); len(events) != 0 {
		t.Errorf("the refusals sent %d events", len(events))
	}
}
