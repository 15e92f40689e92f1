package xchat

import (
	"bytes"
	"errors"
	"regexp"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestEncryptMessage encrypts as the vectors' identity, frames the payload as
// the backend relays it, and decrypts it back.
func TestEncryptMessage(t *testing.T) {
	v := loadVectors(t)
	id, signers, keys := v.identity(t), v.signers(t), v.keys(t)
	text := "Hola 👋, ¿en qué podemos ayudarte?"
	p, err := id.EncryptMessage("2222", keys[v.EventConversationKeyVersion], v.EventConversationKeyVersion, text)
	if err != nil {
		t.Fatal(err)
	}
	if !uuidPattern.MatchString(p.MessageID) || p.ConversationKeyVersion != v.EventConversationKeyVersion ||
		!p.ShouldNotify || p.SignatureInfo != (SignatureInfo{PublicKeyVersion: "1", SignatureVersion: "7"}) {
		t.Errorf("payload = %+v", p)
	}
	ev, err := ParseEvent(frame(t, p, "2", id.UserID, v.EventConversationID))
	if err != nil {
		t.Fatal(err)
	}
	if ev.sig.signature != p.Signature || ev.SigningKeyVersion != "1" || ev.SignatureVersion != "7" {
		t.Errorf("encoded signature %+v does not match payload signature %s", ev.sig, p.Signature)
	}
	m, err := Decrypt(ev, keys, signers)
	if err != nil {
		t.Fatal(err)
	}
	if m.Content.Kind != ContentText || m.Content.Text != text {
		t.Errorf("decrypted %+v, want %q", m.Content, text)
	}
	// The signature binds the canonical conversation id: relayed under
	// another conversation, the message does not verify.
	ev, _ = ParseEvent(frame(t, p, "2", id.UserID, "2222:1111"))
	if _, err := Decrypt(ev, keys, signers); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Decrypt under another conversation id = %v, want ErrBadSignature", err)
	}
	q, err := id.EncryptMessage("2222", keys[v.EventConversationKeyVersion], v.EventConversationKeyVersion, text)
	if err != nil || q.MessageID == p.MessageID || q.EncryptedContent == p.EncryptedContent {
		t.Errorf("second payload repeats the first: %v", err)
	}
}

func TestEncryptMessageErrors(t *testing.T) {
	v := loadVectors(t)
	key := b64(t, v.ConversationKey)
	noUser := v.identity(t)
	noUser.UserID = ""
	tests := []struct {
		name       string
		id         *Identity
		key        []byte
		keyVersion string
		text       string
		want       error
	}{
		{"no user id", noUser, key, "1", "hi", nil},
		{"short key", v.identity(t), key[:16], "1", "hi", nil},
		{"invalid UTF-8", v.identity(t), key, "1", "\xff", nil},
		{"comma in key version", v.identity(t), key, "1,2", "hi", ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.id.EncryptMessage("2222", tt.key, tt.keyVersion, tt.text)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("EncryptMessage = %v, want an error (%v)", err, tt.want)
			}
		})
	}
}

func TestCanonicalConversationID(t *testing.T) {
	nines, big := "999999999999999999999999999999999999999", "1000000000000000000000000000000000000000"
	tests := []struct{ id, sender, want string }{
		{"111-222", "111", "111:222"},
		{"222-111", "111", "111:222"},
		{"222:111", "111", "111:222"},
		{"111:222", "111", "111:222"},
		{"10-9", "111", "9:10"},
		{"01-1", "111", "1:01"},
		{"1-01", "111", "1:01"},
		{big + "-" + nines, "111", nines + ":" + big},
		{"222", "111", "111:222"},
		{"111", "222", "111:222"},
		{"111", "111", "111:111"},
		{"g2031597666757378493", "111", "g2031597666757378493"},
		{"conv-1", "111", "conv-1"},
		{"g123-456", "111", "g123-456"},
		{"222", "sender-1", "222"},
	}
	for _, tt := range tests {
		if got := canonicalConversationID(tt.id, tt.sender); got != tt.want {
			t.Errorf("canonicalConversationID(%q, %q) = %q, want %q", tt.id, tt.sender, got, tt.want)
		}
	}
}

// sealedEvent encrypts content as id and returns it framed as an event.
func sealedEvent(t testing.TB, id *Identity, key []byte, conversationID string, content []byte) *Event {
	t.Helper()
	return sealedEventVersion(t, id, key, "1001", conversationID, content)
}

// sealedEventVersion is sealedEvent under a given key version.
func sealedEventVersion(t testing.TB, id *Identity, key []byte, keyVersion, conversationID string, content []byte) *Event {
	t.Helper()
	sealed := must(sealBox(key, content))
	p, err := id.signMessage(must(newUUID()), conversationID, keyVersion, sealed)
	if err != nil {
		t.Fatal(err)
	}
	return must(ParseEvent(frame(t, p, "2", id.UserID, conversationID)))
}

// previewClaims are the claims a test reply makes about its original.
type previewClaims struct {
	sender     int64
	text       string
	seq, msgID string
	entities   bool
	original   []byte // raw MessageEvent, embedded when set
	edit       []byte
}

// reply encodes a reply's content carrying a preview with the claims.
func reply(t testing.TB, c previewClaims) []byte {
	return holder(t, 1, func(e *encoder) {
		e.str(1, "a reply")
		e.begin(thrift.STRUCT, 4)
		e.begin(thrift.I64, 1)
		e.check(e.p.WriteI64(ctx, c.sender))
		e.str(2, c.text)
		if c.entities {
			e.begin(thrift.LIST, 3)
			e.check(e.p.WriteListBegin(ctx, thrift.STRUCT, 1))
			entity(e, 0, 7, 1)
		}
		e.str(6, c.seq)
		e.str(7, c.msgID)
		for id, raw := range map[int16][]byte{8: c.original, 9: c.edit} {
			if raw != nil {
				e.begin(thrift.STRUCT, id)
				e.raw(raw)
			}
		}
		e.stop()
	})
}

// TestReplyPreview checks preview validation claim by claim, with replies
// quoting the vectors' message.
func TestReplyPreview(t *testing.T) {
	v := loadVectors(t)
	id, signers, keys := v.identity(t), v.signers(t), v.keys(t)
	key := keys[v.EventConversationKeyVersion]
	mallory := otherIdentity(t, "2222")
	if err := signers.Add(must(mallory.SigningKey())); err != nil {
		t.Fatal(err)
	}
	original := b64(t, v.EventMessage)
	orig := parse(t, v.EventMessage)
	elsewhere := parse(t, v.EventMessage)
	elsewhere.ConversationID = "1111:3333"
	signMessageEvent(t, id, elsewhere)
	badSig := parse(t, v.EventMessage)
	flipSignatureByte(t, badSig, 5)
	editContent := holder(t, 4, func(e *encoder) { e.str(1, "1"); e.str(2, "edited message") })
	edit := encodeEvent(t, sealedEvent(t, id, key, v.EventConversationID, editContent))
	malloryEdit := encodeEvent(t, sealedEvent(t, mallory, key, v.EventConversationID, editContent))
	good := previewClaims{sender: 1111, text: v.EventMessageText, seq: "1", msgID: orig.MessageID, original: original}
	tests := []struct {
		name  string
		alter func(c *previewClaims)
		want  PreviewValidation
	}{
		{name: "matching", want: PreviewValid},
		{name: "truncated text", alter: func(c *previewClaims) { c.text = "fixture ev" }, want: PreviewValid},
		{name: "other text", alter: func(c *previewClaims) { c.text = "fixture event massage" }, want: PreviewInvalid},
		{name: "other sender", alter: func(c *previewClaims) { c.sender = 2222 }, want: PreviewInvalid},
		{name: "other sequence id", alter: func(c *previewClaims) { c.seq = "2" }, want: PreviewInvalid},
		{name: "other message id", alter: func(c *previewClaims) { c.msgID = "x" }, want: PreviewInvalid},
		{name: "entity not in original", alter: func(c *previewClaims) { c.entities = true }, want: PreviewInvalid},
		{name: "original from another conversation", alter: func(c *previewClaims) { c.original = encodeEvent(t, elsewhere) }, want: PreviewInvalid},
		{name: "original badly signed", alter: func(c *previewClaims) { c.original = encodeEvent(t, badSig) }, want: PreviewInvalid},
		{name: "original is a key change", alter: func(c *previewClaims) { c.original = b64(t, v.EventKeyChange) }, want: PreviewInvalid},
		{name: "no original", alter: func(c *previewClaims) { c.original = nil }, want: PreviewUnchecked},
		{name: "edited", alter: func(c *previewClaims) { c.edit, c.text = edit, "edited" }, want: PreviewValid},
		{name: "edited, quoting the old text", alter: func(c *previewClaims) { c.edit = edit }, want: PreviewInvalid},
		{name: "edit by another author", alter: func(c *previewClaims) { c.edit, c.text = malloryEdit, "edited" }, want: PreviewInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			if tt.alter != nil {
				tt.alter(&c)
			}
			m, err := Decrypt(sealedEvent(t, id, key, v.EventConversationID, reply(t, c)), keys, signers)
			if err != nil {
				t.Fatal(err)
			}
			if m.Content.Text != "a reply" || m.ReplyTo == nil || m.ReplyTo.Validation != tt.want {
				t.Errorf("reply = %+v, preview %+v; want %v", m.Content, m.ReplyTo, tt.want)
			}
		})
	}
	// A reply under a newer key quotes an original under the older one: the
	// older key must be among the keys passed, or the preview is invalid.
	newer := bytes.Repeat([]byte{4}, 32)
	ev := sealedEventVersion(t, id, newer, "2002", v.EventConversationID, reply(t, good))
	for _, tt := range []struct {
		keys ConversationKeys
		want PreviewValidation
	}{
		{ConversationKeys{"2002": newer}, PreviewInvalid},
		{ConversationKeys{"2002": newer, "1001": key}, PreviewValid},
	} {
		m, err := Decrypt(ev, tt.keys, signers)
		if err != nil || m.ReplyTo.Validation != tt.want {
			t.Errorf("Decrypt with keys %v = %v, %v; want preview %v", tt.keys, m, err, tt.want)
		}
	}
}

// TestEncryptMessageWithID: a message retried with its id is the same
// message (same id, fresh ciphertext) and verifies without its key (Verify,
// what X's backend can check); an id that is not a UUID is refused.
func TestEncryptMessageWithID(t *testing.T) {
	v := loadVectors(t)
	id, signers, keys := v.identity(t), v.signers(t), v.keys(t)
	const messageID = "5b7c2a10-9d3e-8f41-a2b6-0c1d2e3f4a5b"
	key, version := keys[v.EventConversationKeyVersion], v.EventConversationKeyVersion
	p, err := id.EncryptMessageWithID(messageID, "2222", key, version, "Seguimos con tu pedido")
	if err != nil {
		t.Fatal(err)
	}
	q, err := id.EncryptMessageWithID(messageID, "2222", key, version, "Seguimos con tu pedido")
	if err != nil || p.MessageID != messageID || q.MessageID != messageID || p.EncryptedContent == q.EncryptedContent {
		t.Fatalf("retry: %+v then %+v, %v; want the same id with fresh ciphertext", p, q, err)
	}
	ev, err := ParseEvent(frame(t, q, "3", id.UserID, v.EventConversationID))
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(ev, signers); err != nil {
		t.Errorf("Verify(retry) = %v", err)
	}
	if err := Verify(ev, &SigningKeySet{}); !errors.Is(err, ErrUnverified) {
		t.Errorf("Verify without the sender's key = %v, want ErrUnverified", err)
	}
	if err := Verify(parse(t, v.EventKeyChange), signers); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Verify(key change) = %v, want ErrUnsupported", err)
	}
	for _, bad := range []string{"", "pajarito-reply-1", "5b7c2a10-9d3e-8f41-a2b6-0c1d2e3f4a5", "5b7c2a10x9d3e-8f41-a2b6-0c1d2e3f4a5b"} {
		if _, err := id.EncryptMessageWithID(bad, "2222", key, version, "hola"); err == nil {
			t.Errorf("EncryptMessageWithID(%q) took a message id that is not a UUID", bad)
		}
	}
}
