package xfake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pajarito-care/pajarito/shared/xchat"
)

var updateChatSamples = flag.Bool("update-xchat-samples", false, "write new keys and X Chat sample events (events/xaa-chat-*.json, events/"+SampleKeysFile+")")

// The sample X Chat conversation: María writes to the brand in X Chat; the
// brand answers in X's app.
const (
	sampleBrand    = "1590000000000000001"
	sampleMaria    = "1862954300111222333"
	sampleReceived = "Hola, os escribo por aquí porque es privado: me habéis cobrado dos veces la reserva PJX4K2 y necesito que me devolváis uno de los cargos."
	sampleSent     = "Hola María, lo sentimos mucho: vemos el doble cargo de la reserva PJX4K2 y te devolvemos uno hoy mismo. ^Lucía"
)

// sample is one chat.* sample file and what it says.
type sample struct {
	file, eventUUID, eventType, tag, messageID, sender, created, text string
}

var chatSamples = []sample{
	{"xaa-chat-received-es.json", "-6125093847203948811", "chat.received", "pajarito-chat-in", "7d2f4c1e-3b8a-4f6d-9e21-5a0c8b7e6d43", sampleMaria, "1787070121408", sampleReceived},
	{"xaa-chat-sent-es.json", "-6125093847203948812", "chat.sent", "pajarito-chat-out", "0b9e6a52-71c4-4d8e-b3f0-2e6d9a1c5f87", sampleBrand, "1787070484115", sampleSent},
}

// TestXChatSamples: the sample X Chat events open with the sample keys, as X
// would deliver them: María's message, verified against her registered key,
// under the key her key change gave the brand, and the brand's answer.
// -update-xchat-samples makes new keys and writes the samples anew.
func TestXChatSamples(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "events")
	if *updateChatSamples {
		writeChatSamples(t, dir)
	}
	keys, err := ReadSampleKeys(dir)
	if err != nil || keys == nil {
		t.Fatalf("sample keys: %v, %v", keys, err)
	}
	brand, err := keys.Identity()
	if err != nil {
		t.Fatal(err)
	}
	signers, err := keys.Signers()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range chatSamples {
		var d chatEnvelope
		b, err := os.ReadFile(filepath.Join(dir, s.file))
		if err != nil || json.Unmarshal(b, &d) != nil {
			t.Fatalf("%s: %v", s.file, err)
		}
		p := d.Data.Payload
		kc, err := xchat.ParseEventBase64(p.ConversationKeyChangeEvent)
		if err != nil {
			t.Fatalf("%s: key change: %v", s.file, err)
		}
		ck, err := brand.ConversationKeys(kc, signers)
		if err != nil {
			t.Fatalf("%s: the brand opens the key change: %v", s.file, err)
		}
		ev, err := xchat.ParseEventBase64(p.EncodedEvent)
		if err != nil {
			t.Fatal(err)
		}
		ev.AttachSignature(p.MessageEventSignature.Signature, p.MessageEventSignature.PublicKeyVersion, p.MessageEventSignature.SignatureVersion)
		m, err := xchat.Decrypt(ev, ck, signers)
		if err != nil || m.Content.Text != s.text || ev.SenderID != s.sender || ev.MessageID != p.ID || p.ID != s.messageID {
			t.Errorf("%s opens as %+v, %v; want %q from %s", s.file, m, err, s.text, s.sender)
		}
	}
}

// writeChatSamples makes the brand's and María's keys, María's key change and
// message, and the brand's answer, and writes them as X delivers them.
func writeChatSamples(t *testing.T, dir string) {
	ids := map[string]*xchat.Identity{}
	keys := SampleKeys{Comment: "X Chat keys of the sample conversations (xaa-chat-*.json), made by go test ./shared/local/xfake -run TestXChatSamples -update-xchat-samples. " +
		"The brand's private keys are public: pajarito dev uses them with the fake X only, so that the samples open. Never register them with X."}
	for user, version := range map[string]string{sampleBrand: "1786900000000", sampleMaria: "1787000000000"} {
		id, err := xchat.GenerateIdentity()
		if err != nil {
			t.Fatal(err)
		}
		id.UserID, id.KeyVersion = user, version
		reg, err := id.Registration()
		if err != nil {
			t.Fatal(err)
		}
		ids[user] = id
		keys.PublicKeys = append(keys.PublicKeys, PublicKey{UserID: user, Version: version, PublicKey: reg.PublicKey, SigningPublicKey: reg.SigningPublicKey,
			IdentityPublicKeySignature: reg.IdentityPublicKeySignature, SigningPublicKeySignature: reg.SigningPublicKeySignature,
			PublicKeyFingerprint: reg.PublicKeyFingerprint, RegistrationMethod: reg.RegistrationMethod})
	}
	if keys.PublicKeys[0].UserID != sampleBrand {
		keys.PublicKeys[0], keys.PublicKeys[1] = keys.PublicKeys[1], keys.PublicKeys[0]
	}
	brand := ids[sampleBrand]
	keys.Brand.UserID, keys.Brand.KeyVersion = sampleBrand, brand.KeyVersion
	keys.Brand.PrivateKeys = base64.StdEncoding.EncodeToString(brand.Export())
	kc, err := ids[sampleMaria].NewKeyChange(sampleBrand, "1787070000000", []xchat.Recipient{
		{UserID: sampleBrand, PublicKey: brand.PublicKeys().Identity, KeyVersion: brand.KeyVersion}})
	if err != nil {
		t.Fatal(err)
	}
	keyChange := frameSample(t, eventFrame{SequenceID: "48210", MessageID: kc.MessageID, SenderID: sampleMaria, ConversationID: kc.ConversationID,
		CreatedAtMsec: 1787070121000, Detail: unb64(t, kc.EncodedMessageEventDetail),
		Signature: eventSignature{Signature: kc.Signature, PublicKeyVersion: kc.PublicKeyVersion, SignatureVersion: kc.SignatureVersion}.encode()})
	for i, s := range chatSamples {
		p, err := ids[s.sender].EncryptMessageWithID(s.messageID, kc.ConversationID, kc.Key, kc.KeyVersion, s.text)
		if err != nil {
			t.Fatal(err)
		}
		created, _ := strconv.ParseInt(s.created, 10, 64)
		var d chatEnvelope
		d.Data.EventUUID, d.Data.Filter.UserID, d.Data.EventType, d.Data.Tag = s.eventUUID, sampleBrand, s.eventType, s.tag
		d.Data.Payload = chatPayload{ID: s.messageID, SenderID: s.sender, ConversationID: kc.ConversationID, CreatedAtMsec: s.created,
			EncodedEvent: frameSample(t, eventFrame{SequenceID: strconv.Itoa(48211 + i), MessageID: s.messageID, SenderID: s.sender,
				ConversationID: kc.ConversationID, CreatedAtMsec: created, Detail: unb64(t, p.EncryptedContent), Message: true}),
			ConversationKeyChangeEvent: keyChange,
			ConversationToken:          base64.RawURLEncoding.EncodeToString([]byte("ChatToken-" + kc.ConversationID)),
		}
		sig := &d.Data.Payload.MessageEventSignature
		sig.Signature, sig.SignatureVersion, sig.PublicKeyVersion = p.Signature, p.SignatureInfo.SignatureVersion, p.SignatureInfo.PublicKeyVersion
		sig.SigningPublicKey = keys.PublicKeys[map[string]int{sampleBrand: 0, sampleMaria: 1}[s.sender]].SigningPublicKey
		writeSample(t, filepath.Join(dir, s.file), d)
	}
	if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(SampleKeysFile)), 0o755); err != nil {
		t.Fatal(err)
	}
	writeSample(t, filepath.Join(dir, SampleKeysFile), keys)
}

func frameSample(t *testing.T, f eventFrame) string {
	t.Helper()
	b, err := frameEvent(f)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func unb64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeSample(t *testing.T, path string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
