package xchat

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// vectors is testdata/sdk_vectors.json, the Chat SDK's cross-binding test
// vectors (see testdata/README.md).
type vectors struct {
	ConversationKey             string `json:"conversation_key_b64"`
	EventConversationID         string `json:"event_conversation_id"`
	EventConversationKeyVersion string `json:"event_conversation_key_version"`
	EventFailure                string `json:"event_failure_b64"`
	EventGarbage                string `json:"event_garbage_b64"`
	EventKeyChange              string `json:"event_key_change_b64"`
	EventMessage                string `json:"event_message_b64"`
	EventMessageText            string `json:"event_message_text"`
	EventRecipientKeyVersion    string `json:"event_recipient_key_version"`
	EventReplyForged            string `json:"event_reply_forged_b64"`
	EventReplyForgedPreviewText string `json:"event_reply_forged_preview_text"`
	EventReplyText              string `json:"event_reply_text"`
	EventReplyValid             string `json:"event_reply_valid_b64"`
	EventSenderID               string `json:"event_sender_id"`
	EventSigningKeyVersion      string `json:"event_signing_key_version"`
	IdentityPrivate             string `json:"identity_private_b64"`
	IdentityPublic              string `json:"identity_public_b64"`
	IdentityPublicKeySignature  string `json:"identity_public_key_signature_b64"`
	MessageUTF8                 string `json:"message_utf8"`
	Plaintext                   string `json:"plaintext_b64"`
	PrivateKeysConcat           string `json:"private_keys_concat_b64"`
	Signature                   string `json:"signature_b64"`
	SigningPrivate              string `json:"signing_private_b64"`
	SigningPublic               string `json:"signing_public_b64"`
}

func loadVectors(t testing.TB) *vectors {
	t.Helper()
	b, err := os.ReadFile("testdata/sdk_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var v vectors
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// identity is the vectors' identity, registered as the event sender under
// the recipient key version.
func (v *vectors) identity(t testing.TB) *Identity {
	t.Helper()
	id, err := ParseIdentityBase64(v.PrivateKeysConcat)
	if err != nil {
		t.Fatal(err)
	}
	id.UserID, id.KeyVersion = v.EventSenderID, v.EventRecipientKeyVersion
	return id
}

// signers holds the sender's registered keys, as the X API would serve them.
func (v *vectors) signers(t testing.TB) *SigningKeySet {
	t.Helper()
	var s SigningKeySet
	err := s.Add(SigningKey{
		UserID:                     v.EventSenderID,
		Version:                    v.EventSigningKeyVersion,
		PublicKey:                  v.SigningPublic,
		IdentityPublicKey:          v.IdentityPublic,
		IdentityPublicKeySignature: v.IdentityPublicKeySignature,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &s
}

func (v *vectors) keys(t testing.TB) ConversationKeys {
	return ConversationKeys{v.EventConversationKeyVersion: b64(t, v.ConversationKey)}
}

func b64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parse(t testing.TB, s string) *Event {
	t.Helper()
	ev, err := ParseEventBase64(s)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestVectorsAllUsed checks that every field of the vectors file is known
// here and not empty, so that a vector added upstream is noticed.
func TestVectorsAllUsed(t *testing.T) {
	v := reflect.ValueOf(*loadVectors(t))
	for i := range v.NumField() {
		if v.Field(i).String() == "" {
			t.Errorf("vector %s is empty", v.Type().Field(i).Tag.Get("json"))
		}
	}
	var raw map[string]any
	if err := json.Unmarshal(must(os.ReadFile("testdata/sdk_vectors.json")), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != v.NumField() {
		t.Errorf("vectors file has %d entries, the test knows %d", len(raw), v.NumField())
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestVectorKeys(t *testing.T) {
	v := loadVectors(t)
	id := v.identity(t)
	split, err := NewIdentity(b64(t, v.IdentityPrivate), b64(t, v.SigningPrivate))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b64(t, v.PrivateKeysConcat)[:32], b64(t, v.IdentityPrivate)) {
		t.Error("concatenated keys do not start with the identity key")
	}
	for _, got := range []PublicKeys{id.PublicKeys(), split.PublicKeys()} {
		if got.Identity != v.IdentityPublic || got.Signing != v.SigningPublic {
			t.Errorf("public keys = %+v, want %s and %s", got, v.IdentityPublic, v.SigningPublic)
		}
	}
	// The SDK signs deterministically (RFC 6979), so signatures match bytewise.
	sig, err := id.sign([]byte(v.MessageUTF8))
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.StdEncoding.EncodeToString(sig); got != v.Signature {
		t.Errorf("signature = %s, want %s", got, v.Signature)
	}
	pub := must(parseSigningPublicKey(v.SigningPublic))
	if !verifyRaw(pub, b64(t, v.Signature), []byte(v.MessageUTF8)) {
		t.Error("vector signature does not verify")
	}
	if verifyRaw(pub, b64(t, v.Signature), []byte(v.MessageUTF8+"!")) {
		t.Error("vector signature verifies over another message")
	}
	self, err := id.SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	if self.IdentityPublicKeySignature != v.IdentityPublicKeySignature {
		t.Errorf("binding signature = %s, want %s", self.IdentityPublicKeySignature, v.IdentityPublicKeySignature)
	}
}

func TestVectorECIES(t *testing.T) {
	v := loadVectors(t)
	id := v.identity(t)
	key := b64(t, v.ConversationKey)
	ct, err := sealECIES(id.identity.PublicKey(), key)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := openECIES(id.identity, ct)
	if err != nil || !bytes.Equal(pt, key) {
		t.Fatalf("openECIES = %x, %v; want %x", pt, err, key)
	}
	other, _ := NewIdentity(bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{8}, 32))
	if _, err := openECIES(other.identity, ct); err == nil {
		t.Error("another identity key opened the ciphertext")
	}
}

func TestVectorSecretbox(t *testing.T) {
	v := loadVectors(t)
	key, plaintext := b64(t, v.ConversationKey), b64(t, v.Plaintext)
	c1, err1 := sealBox(key, plaintext)
	c2, err2 := sealBox(key, plaintext)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if bytes.Equal(c1, c2) {
		t.Error("two seals of one plaintext are equal: the nonce is not random")
	}
	if pt, err := openBox(key, c1); err != nil || !bytes.Equal(pt, plaintext) {
		t.Errorf("openBox = %q, %v; want %q", pt, err, plaintext)
	}
}

func TestVectorKeyChange(t *testing.T) {
	v := loadVectors(t)
	ev := parse(t, v.EventKeyChange)
	want := Event{
		SequenceID: "1", MessageID: "kc-msg-1", SenderID: v.EventSenderID,
		ConversationID: v.EventConversationID, CreatedAt: time.UnixMilli(1700000000000),
		Kind: KindKeyChange, KeyVersion: v.EventConversationKeyVersion,
		SigningKeyVersion: v.EventSigningKeyVersion, SignatureVersion: "7",
	}
	checkMeta(t, ev, &want)
	if len(ev.ParticipantKeys) != 1 || ev.ParticipantKeys[0].UserID != v.EventSenderID ||
		ev.ParticipantKeys[0].PublicKeyVersion != v.EventRecipientKeyVersion {
		t.Errorf("participant keys = %+v", ev.ParticipantKeys)
	}
	keys, err := v.identity(t).ConversationKeys(ev, v.signers(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !bytes.Equal(keys[v.EventConversationKeyVersion], b64(t, v.ConversationKey)) {
		t.Errorf("conversation keys = %x", keys[v.EventConversationKeyVersion])
	}
	if _, err := Decrypt(ev, keys, v.signers(t)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Decrypt(key change) = %v, want ErrUnsupported", err)
	}
}

func checkMeta(t *testing.T, got, want *Event) {
	t.Helper()
	if got.SequenceID != want.SequenceID || got.MessageID != want.MessageID ||
		got.SenderID != want.SenderID || got.ConversationID != want.ConversationID ||
		!got.CreatedAt.Equal(want.CreatedAt) || got.Kind != want.Kind ||
		got.KeyVersion != want.KeyVersion || got.SigningKeyVersion != want.SigningKeyVersion ||
		got.SignatureVersion != want.SignatureVersion {
		t.Errorf("event = %+v\nwant  %+v", got, want)
	}
}

func TestVectorMessage(t *testing.T) {
	v := loadVectors(t)
	ev := parse(t, v.EventMessage)
	checkMeta(t, ev, &Event{
		SequenceID: "1", MessageID: "2c2a1d32-988b-4b0e-9e63-c3baab3003fd", SenderID: v.EventSenderID,
		ConversationID: v.EventConversationID, CreatedAt: time.UnixMilli(1700000000000),
		Kind: KindMessage, KeyVersion: v.EventConversationKeyVersion,
		SigningKeyVersion: v.EventSigningKeyVersion, SignatureVersion: "7",
	})
	m, err := Decrypt(ev, v.keys(t), v.signers(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.Content.Kind != ContentText || m.Content.Text != v.EventMessageText {
		t.Errorf("content = %+v, want text %q", m.Content, v.EventMessageText)
	}
	if m.ReplyTo != nil || !m.ShouldNotify || m.TTL != 0 || m.Event != ev {
		t.Errorf("message = %+v", m)
	}
	if _, err := v.identity(t).ConversationKeys(ev, v.signers(t)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ConversationKeys(message) = %v, want ErrUnsupported", err)
	}
}

// TestVectorReplies checks both replies: they decrypt, and the preview that
// matches the embedded original validates while the forged one is flagged,
// as the SDK does.
func TestVectorReplies(t *testing.T) {
	v := loadVectors(t)
	tests := []struct {
		name, event, previewText string
		want                     PreviewValidation
	}{
		{"valid", v.EventReplyValid, v.EventMessageText, PreviewValid},
		{"forged", v.EventReplyForged, v.EventReplyForgedPreviewText, PreviewInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decrypt(parse(t, tt.event), v.keys(t), v.signers(t))
			if err != nil {
				t.Fatal(err)
			}
			if m.Content.Text != v.EventReplyText {
				t.Errorf("text = %q, want %q", m.Content.Text, v.EventReplyText)
			}
			p := m.ReplyTo
			if p == nil {
				t.Fatal("no reply preview")
			}
			if p.Validation != tt.want || p.Text != tt.previewText || p.SenderID != v.EventSenderID ||
				p.MessageID != "2c2a1d32-988b-4b0e-9e63-c3baab3003fd" || p.SequenceID != "1" {
				t.Errorf("preview = %+v, want %v with text %q", p, tt.want, tt.previewText)
			}
			if (p.Reason != nil) != (tt.want == PreviewInvalid) ||
				p.Reason != nil && !strings.Contains(p.Reason.Error(), "text differs") {
				t.Errorf("reason = %v", p.Reason)
			}
		})
	}
	// Without the sender's registered key the reply is not trusted at all.
	var none SigningKeySet
	m, err := Decrypt(parse(t, v.EventReplyValid), v.keys(t), &none)
	if !errors.Is(err, ErrUnverified) || m != nil {
		t.Errorf("Decrypt without signers = %v, %v; want ErrUnverified", m, err)
	}
}

func TestVectorFailure(t *testing.T) {
	v := loadVectors(t)
	ev := parse(t, v.EventFailure)
	checkMeta(t, ev, &Event{
		SequenceID: "1", MessageID: "failure-msg-1", SenderID: v.EventSenderID,
		ConversationID: v.EventConversationID, CreatedAt: time.UnixMilli(1700000000000), Kind: KindFailure,
	})
	if ev.Failure == nil || ev.Failure.Type != FailureRateLimitUpsell || ev.Failure.RateLimitTier != TierPremium {
		t.Fatalf("failure = %+v", ev.Failure)
	}
	if got := ev.Failure.Type.String() + "/" + ev.Failure.RateLimitTier.String() + "/" + ev.Kind.String(); got != "RateLimitUpsell/Premium/failure" {
		t.Errorf("names = %s", got)
	}
	if _, err := Decrypt(ev, v.keys(t), v.signers(t)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Decrypt(failure) = %v, want ErrUnsupported", err)
	}
}

func TestVectorGarbage(t *testing.T) {
	v := loadVectors(t)
	if ev, err := ParseEventBase64(v.EventGarbage); !errors.Is(err, ErrMalformed) || ev != nil {
		t.Errorf("ParseEventBase64(garbage) = %v, %v; want ErrMalformed", ev, err)
	}
	if ev, err := ParseEvent([]byte(v.EventGarbage)); !errors.Is(err, ErrMalformed) || ev != nil {
		t.Errorf("ParseEvent(garbage) = %v, %v; want ErrMalformed", ev, err)
	}
}

// TestVectorBatch runs the SDK's batch scenario: key change, message and
// garbage in one webhook delivery, keys taken from the key change only.
func TestVectorBatch(t *testing.T) {
	v := loadVectors(t)
	id, signers := v.identity(t), v.signers(t)
	keys := ConversationKeys{}
	var texts []string
	var failed []int
	for i, s := range []string{v.EventKeyChange, v.EventMessage, v.EventGarbage} {
		ev, err := ParseEventBase64(s)
		if err != nil {
			failed = append(failed, i)
			continue
		}
		switch ev.Kind {
		case KindKeyChange:
			k, err := id.ConversationKeys(ev, signers)
			if err != nil {
				t.Fatal(err)
			}
			for ver, key := range k {
				keys[ver] = key
			}
		case KindMessage:
			m, err := Decrypt(ev, keys, signers)
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, m.Content.Text)
		}
	}
	if !reflect.DeepEqual(texts, []string{v.EventMessageText}) || !reflect.DeepEqual(failed, []int{2}) {
		t.Errorf("texts = %q, failed = %v", texts, failed)
	}
}
