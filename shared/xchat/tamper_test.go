package xchat

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
)

// otherIdentity is a key pair nobody registered.
func otherIdentity(t testing.TB, userID string) *Identity {
	t.Helper()
	id, err := NewIdentity(bytes.Repeat([]byte{0x11}, 32), bytes.Repeat([]byte{0x22}, 32))
	if err != nil {
		t.Fatal(err)
	}
	id.UserID, id.KeyVersion = userID, "1"
	return id
}

func flipSignatureByte(t testing.TB, ev *Event, i int) {
	t.Helper()
	sig, err := base64.RawStdEncoding.DecodeString(ev.sig.signature)
	if err != nil {
		t.Fatal(err)
	}
	sig[i] ^= 0x01
	ev.sig.signature = base64.RawStdEncoding.EncodeToString(sig)
}

// TestTamperMessage alters the vector message one way at a time. The
// signature covers the sender, message id, conversation, key version and
// ciphertext, so an alteration the sender did not sign is a bad signature;
// ErrTampered needs a ciphertext the sender's key signed that still fails
// authentication under the conversation key.
func TestTamperMessage(t *testing.T) {
	v := loadVectors(t)
	id, signers, keys := v.identity(t), v.signers(t), v.keys(t)
	tests := []struct {
		name   string
		alter  func(ev *Event)
		keys   ConversationKeys
		want   error
		ok     bool // still decrypts: the field is not signed
		reSign bool
	}{
		{name: "untouched", ok: true},
		{name: "sequence id is unsigned", alter: func(ev *Event) { ev.SequenceID = "999" }, ok: true},
		{name: "ciphertext byte flipped", alter: func(ev *Event) { ev.msg.contents[50] ^= 1 }, want: ErrBadSignature},
		{name: "nonce byte flipped, re-signed", alter: func(ev *Event) { ev.msg.contents[0] ^= 1 }, reSign: true, want: ErrTampered},
		{name: "tag byte flipped, re-signed", alter: func(ev *Event) { ev.msg.contents[30] ^= 1 }, reSign: true, want: ErrTampered},
		{name: "ciphertext byte flipped, re-signed", alter: func(ev *Event) { ev.msg.contents[len(ev.msg.contents)-1] ^= 1 }, reSign: true, want: ErrTampered},
		{name: "ciphertext truncated, re-signed", alter: func(ev *Event) { ev.msg.contents = ev.msg.contents[:60] }, reSign: true, want: ErrTampered},
		{name: "ciphertext shorter than nonce and tag, re-signed", alter: func(ev *Event) { ev.msg.contents = ev.msg.contents[:39] }, reSign: true, want: ErrMalformed},
		{name: "wrong conversation key", keys: ConversationKeys{v.EventConversationKeyVersion: bytes.Repeat([]byte{9}, 32)}, want: ErrTampered},
		{name: "short conversation key", keys: ConversationKeys{v.EventConversationKeyVersion: make([]byte, 16)}, want: ErrNoKey},
		{name: "unknown key version", keys: ConversationKeys{"7": b64(t, v.ConversationKey)}, want: ErrNoKey},
		{name: "no keys", keys: ConversationKeys{}, want: ErrNoKey},
		{name: "key version changed, re-signed", alter: func(ev *Event) { ev.msg.keyVersion = "1002" }, reSign: true, want: ErrNoKey},
		{name: "key version changed", alter: func(ev *Event) { ev.msg.keyVersion = "1002" }, want: ErrBadSignature},
		{name: "signature first byte flipped", alter: func(ev *Event) { flipSignatureByte(t, ev, 0) }, want: ErrBadSignature},
		{name: "signature middle byte flipped", alter: func(ev *Event) { flipSignatureByte(t, ev, 31) }, want: ErrBadSignature},
		{name: "signature last byte flipped", alter: func(ev *Event) { flipSignatureByte(t, ev, 63) }, want: ErrBadSignature},
		{name: "signature truncated", alter: func(ev *Event) { ev.sig.signature = ev.sig.signature[:40] }, want: ErrBadSignature},
		{name: "signature not base64", alter: func(ev *Event) { ev.sig.signature = "!" + ev.sig.signature[1:] }, want: ErrBadSignature},
		{name: "signature by another key", alter: func(ev *Event) { signMessageEvent(t, otherIdentity(t, "1111"), ev) }, want: ErrBadSignature},
		{name: "signature removed", alter: func(ev *Event) { ev.sig.hasSignature = false }, want: ErrBadSignature},
		{name: "no signature struct", alter: func(ev *Event) { ev.sig, ev.SigningKeyVersion, ev.SignatureVersion = nil, "", "" }, want: ErrBadSignature},
		{name: "signature version 6", alter: func(ev *Event) { ev.SignatureVersion = "6" }, want: ErrUnsupported},
		{name: "signature version missing", alter: func(ev *Event) { ev.SignatureVersion = "" }, want: ErrUnsupported},
		{name: "unregistered signing key version", alter: func(ev *Event) { ev.SigningKeyVersion = "2" }, want: ErrUnverified},
		{name: "other sender", alter: func(ev *Event) { ev.SenderID = "2222" }, want: ErrUnverified},
		{name: "conversation changed", alter: func(ev *Event) { ev.ConversationID = "1111:3333" }, want: ErrBadSignature},
		{name: "conversation removed", alter: func(ev *Event) { ev.hasConversationID = false }, want: ErrBadSignature},
		{name: "message id changed", alter: func(ev *Event) { ev.MessageID = "another-id" }, want: ErrBadSignature},
		{name: "message id removed", alter: func(ev *Event) { ev.hasMessageID = false }, want: ErrMalformed},
		{name: "comma in signed field", alter: func(ev *Event) { ev.MessageID = "a,b" }, want: ErrBadSignature},
		{name: "unencrypted", alter: func(ev *Event) { ev.msg.hasKeyVer = false }, want: ErrUnsupported},
		{name: "no contents", alter: func(ev *Event) { ev.msg.hasContents = false }, want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := parse(t, v.EventMessage)
			if tt.alter != nil {
				tt.alter(ev)
			}
			if tt.reSign {
				signMessageEvent(t, id, ev)
			}
			k := keys
			if tt.keys != nil {
				k = tt.keys
			}
			m, err := Decrypt(reparse(t, ev), k, signers)
			if tt.ok {
				if err != nil || m.Content.Text != v.EventMessageText {
					t.Fatalf("Decrypt = %v, %v; want the text", m, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || m != nil {
				t.Errorf("Decrypt = %v, %v; want %v", m, err, tt.want)
			}
		})
	}
}

// TestTamperKeyChange alters the vector key change one way at a time.
func TestTamperKeyChange(t *testing.T) {
	v := loadVectors(t)
	id, signers, key := v.identity(t), v.signers(t), b64(t, v.ConversationKey)
	flipKey := func(ev *Event) {
		ct := b64(t, ev.ParticipantKeys[0].EncryptedKey)
		ct[len(ct)-1] ^= 1
		ev.ParticipantKeys[0].EncryptedKey = base64.StdEncoding.EncodeToString(ct)
	}
	tests := []struct {
		name  string
		alter func(ev *Event)
		who   *Identity
		want  error
	}{
		{name: "participant key flipped", alter: flipKey, want: ErrNoKey},
		{name: "participant key for another version", alter: func(ev *Event) { ev.ParticipantKeys[0].PublicKeyVersion = "2" }, want: ErrNoKey},
		{name: "participant key for another user", alter: func(ev *Event) { ev.ParticipantKeys[0].UserID = "2222" }, want: ErrNoKey},
		{name: "no participant keys", alter: func(ev *Event) { ev.ParticipantKeys = nil }, want: ErrNoKey},
		{name: "another identity", who: otherIdentity(t, "1111"), want: ErrNoKey},
		{name: "key version changed", alter: func(ev *Event) { ev.KeyVersion = "1002" }, want: ErrBadSignature},
		{name: "conversation changed", alter: func(ev *Event) { ev.ConversationID = "1111:3333" }, want: ErrBadSignature},
		{name: "signature byte flipped", alter: func(ev *Event) { flipSignatureByte(t, ev, 10) }, want: ErrBadSignature},
		{name: "signature by another key", alter: func(ev *Event) { signKeyChangeEvent(t, otherIdentity(t, "1111"), ev, key) }, want: ErrBadSignature},
		{name: "signature over another key", alter: func(ev *Event) { signKeyChangeEvent(t, id, ev, bytes.Repeat([]byte{5}, 32)) }, want: ErrBadSignature},
		{name: "signature version 6", alter: func(ev *Event) { ev.SignatureVersion = "6" }, want: ErrUnsupported},
		{name: "unregistered sender", alter: func(ev *Event) { ev.SenderID = "3333" }, want: ErrUnverified},
		{name: "no key version", alter: func(ev *Event) { ev.KeyVersion = "" }, want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := parse(t, v.EventKeyChange)
			if tt.alter != nil {
				tt.alter(ev)
			}
			who := id
			if tt.who != nil {
				who = tt.who
			}
			keys, err := who.ConversationKeys(reparse(t, ev), signers)
			if !errors.Is(err, tt.want) || keys != nil {
				t.Errorf("ConversationKeys = %v, %v; want %v", keys, err, tt.want)
			}
		})
	}
}

// TestSigningKeyBinding checks that a registered key whose binding signature
// does not cover its identity key is refused, and that SPKI keys load.
func TestSigningKeyBinding(t *testing.T) {
	v := loadVectors(t)
	good := SigningKey{
		UserID: v.EventSenderID, Version: v.EventSigningKeyVersion, PublicKey: v.SigningPublic,
		IdentityPublicKey: v.IdentityPublic, IdentityPublicKeySignature: v.IdentityPublicKeySignature,
	}
	other := otherIdentity(t, "1111").PublicKeys()
	tests := []struct {
		name  string
		alter func(k *SigningKey)
		want  error
	}{
		{name: "substituted identity key", alter: func(k *SigningKey) { k.IdentityPublicKey = other.Identity }, want: ErrBadSignature},
		{name: "substituted signing key", alter: func(k *SigningKey) { k.PublicKey = other.Signing }, want: ErrBadSignature},
		{name: "signature flipped", alter: func(k *SigningKey) { k.IdentityPublicKeySignature = "A" + k.IdentityPublicKeySignature[1:] }, want: ErrBadSignature},
		{name: "signing key not a point", alter: func(k *SigningKey) { k.PublicKey = base64.StdEncoding.EncodeToString(make([]byte, 65)) }, want: ErrMalformed},
		{name: "signing key not base64", alter: func(k *SigningKey) { k.PublicKey = "%%%" }, want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := good
			tt.alter(&k)
			var s SigningKeySet
			if err := s.Add(k); !errors.Is(err, tt.want) || s.Len() != 0 {
				t.Errorf("Add = %v (len %d), want %v", err, s.Len(), tt.want)
			}
		})
	}
	// The X API serves SPKI (DER) keys; both forms name the same key.
	spki := spkiBase64(t, must(parseSigningPublicKey(v.SigningPublic)))
	got, err := parseSigningPublicKey(spki)
	if err != nil || !got.Equal(must(parseSigningPublicKey(v.SigningPublic))) {
		t.Errorf("SPKI key = %v, %v", got, err)
	}
}

func spkiBase64(t testing.TB, pub *ecdsa.PublicKey) string {
	t.Helper()
	raw := must(pub.Bytes())
	// The fixed 26-byte SPKI header of an uncompressed P-256 key.
	hdr := must(base64.StdEncoding.DecodeString("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgA="))
	return base64.StdEncoding.EncodeToString(append(hdr, raw...))
}

// TestTruncated parses every proper prefix of every vector event: each is
// an error wrapping ErrMalformed, and none panics. Trailing bytes are
// refused too.
func TestTruncated(t *testing.T) {
	v := loadVectors(t)
	for _, s := range []string{v.EventKeyChange, v.EventMessage, v.EventReplyValid, v.EventReplyForged, v.EventFailure} {
		b := b64(t, s)
		for n := range len(b) {
			if ev, err := ParseEvent(b[:n]); !errors.Is(err, ErrMalformed) || ev != nil {
				t.Fatalf("ParseEvent(%d of %d bytes) = %v, %v; want ErrMalformed", n, len(b), ev, err)
			}
		}
		trimmed := strings.TrimRight(s, "=")
		for n := range len(trimmed) {
			if _, err := ParseEventBase64(trimmed[:n]); !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseEventBase64(%d of %d chars) = %v; want ErrMalformed", n, len(trimmed), err)
			}
		}
		if _, err := ParseEventBase64(trimmed); err != nil {
			t.Errorf("unpadded base64: %v", err)
		}
		if _, err := ParseEvent(append(b, 0)); !errors.Is(err, ErrMalformed) {
			t.Errorf("trailing byte: %v", err)
		}
	}
}

// holder encodes a MessageEntryHolder whose contents union holds the given
// variant, written by body.
func holder(t testing.TB, variant int16, body func(e *encoder)) []byte {
	t.Helper()
	e := newEncoder()
	e.begin(thrift.STRUCT, 1)
	e.begin(thrift.STRUCT, variant)
	body(e)
	e.stop()
	e.stop()
	e.stop()
	return bytes.Clone(must(e.bytes()))
}

// entity writes a RichTextEntity list element.
func entity(e *encoder, start, end int32, kind int16) {
	e.begin(thrift.I32, 1)
	e.check(e.p.WriteI32(ctx, start))
	e.begin(thrift.I32, 2)
	e.check(e.p.WriteI32(ctx, end))
	e.begin(thrift.STRUCT, 3)
	e.begin(thrift.STRUCT, kind)
	e.stop()
	e.stop()
	e.stop()
}

// TestContentFormats parses content kinds other than plain text.
func TestContentFormats(t *testing.T) {
	text := holder(t, 1, func(e *encoder) {
		e.str(1, "hi @x https://x.com")
		e.begin(thrift.LIST, 2)
		e.check(e.p.WriteListBegin(ctx, thrift.STRUCT, 2))
		entity(e, 3, 5, 3)
		entity(e, 6, 19, 99) // a kind this package does not know
		e.begin(thrift.LIST, 3)
		e.check(e.p.WriteListBegin(ctx, thrift.STRUCT, 2))
		e.begin(thrift.STRUCT, 2) // post attachment
		e.str(1, "123")
		e.stop()
		e.stop()
		e.begin(thrift.STRUCT, 42) // unknown attachment: dropped
		e.stop()
		e.stop()
	})
	tests := []struct {
		name    string
		content []byte
		want    Content
	}{
		{"text", text, Content{Kind: ContentText, Text: "hi @x https://x.com",
			Entities:    []Entity{{Start: 3, End: 5, Kind: EntityMention, hasStart: true, hasEnd: true}, {Start: 6, End: 19, hasStart: true, hasEnd: true}},
			Attachments: []Attachment{{Kind: AttachmentPost}}}},
		{"reaction", holder(t, 2, func(e *encoder) { e.str(1, "5"); e.str(2, "\U0001F44D") }),
			Content{Kind: ContentReaction, TargetSequenceID: "5", Emoji: "\U0001F44D"}},
		{"reaction removed", holder(t, 3, func(e *encoder) { e.str(1, "5"); e.str(2, "x") }),
			Content{Kind: ContentReactionRemoved, TargetSequenceID: "5", Emoji: "x"}},
		{"edit", holder(t, 4, func(e *encoder) { e.str(1, "5"); e.str(2, "hi") }),
			Content{Kind: ContentEdit, TargetSequenceID: "5", Text: "hi"}},
		{"read marker", holder(t, 5, func(e *encoder) {}), Content{Kind: ContentUnknown, TypeID: 5}},
		{"unknown variant", holder(t, 77, func(e *encoder) {}), Content{Kind: ContentUnknown}},
		{"no contents", []byte{0}, Content{Kind: ContentUnknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := parseContent(tt.content)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got.Attachments {
				got.Attachments[i].canonical = nil
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("content = %+v\nwant      %+v", got, tt.want)
			}
		})
	}
	// Two known variants in one union, or none at all, are malformed.
	two := holder(t, 1, func(e *encoder) {})
	two = append(two[:len(two)-2], 0x0c, 0, 2, 0, 0, 0)
	for _, b := range [][]byte{two, {0x0c, 0, 1, 0, 0}} {
		if _, _, err := parseContent(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("parseContent(%x) = %v, want ErrMalformed", b, err)
		}
	}
}
