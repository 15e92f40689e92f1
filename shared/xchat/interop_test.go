package xchat

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/pajarito-care/pajarito/shared/local/chatsdk"
)

// sdkSetup is the reply to the "setup" request.
type sdkSetup struct {
	CustomerKeys           string
	Customer               SigningKey
	ConversationID         string
	ConversationKey        string
	ConversationKeyVersion string
	KeyChange              struct {
		MessageID, EncodedMessageEventDetail, Signature, SignatureVersion, PublicKeyVersion string
	}
	Payload SendPayload
}

// customer is the setup's customer, for chatsdk.Decrypt.
func (s *sdkSetup) customer() chatsdk.Customer {
	return chatsdk.Customer{Keys: s.CustomerKeys, UserID: s.Customer.UserID, KeyVersion: s.Customer.Version}
}

// frameKeyChange wraps the SDK's key-change action into the event the
// backend relays.
func (s *sdkSetup) frameKeyChange(t *testing.T) string {
	kc := s.KeyChange
	return frameAction(t, "10", kc.MessageID, s.Customer.UserID, s.ConversationID, kc.EncodedMessageEventDetail,
		kc.Signature, kc.PublicKeyVersion, kc.SignatureVersion)
}

// frameAction wraps a key-change action (its base64 detail and signature)
// into the event the backend relays, in base64.
func frameAction(t testing.TB, sequenceID, messageID, senderID, conversationID, detail, signature, publicKeyVersion, signatureVersion string) string {
	t.Helper()
	e := newEncoder()
	e.str(1, sequenceID)
	e.str(2, messageID)
	e.str(3, senderID)
	e.str(4, conversationID)
	e.str(6, "1700000000000")
	e.begin(thrift.STRUCT, 7)
	e.raw(b64(t, detail))
	e.begin(thrift.STRUCT, 9)
	e.str(1, signature)
	e.str(2, publicKeyVersion)
	e.str(3, signatureVersion)
	e.stop()
	e.stop()
	return base64.StdEncoding.EncodeToString(must(e.bytes()))
}

// frameKeyChangeOf frames a key change made in Go, as sent by senderID.
func frameKeyChangeOf(t testing.TB, kc *KeyChange, senderID string) string {
	return frameAction(t, "20", kc.MessageID, senderID, kc.ConversationID, kc.EncodedMessageEventDetail,
		kc.Signature, kc.PublicKeyVersion, kc.SignatureVersion)
}

// TestSDKReadsGoKeyChange: the brand starts a conversation in Go (the key
// change the reply sender posts when it holds no key of a customer's
// conversation) and writes in it; a customer on X's SDK extracts the key from
// the change, verified, and decrypts the message.
func TestSDKReadsGoKeyChange(t *testing.T) {
	v := loadVectors(t)
	brand := v.identity(t)
	var s sdkSetup
	chatsdk.Run(t, map[string]string{
		"op": "setup", "brandId": brand.UserID, "brandIdentityKey": brand.PublicKeys().Identity,
		"brandKeyVersion": brand.KeyVersion, "customerId": "2222", "text": "hola",
	}, &s)
	kc, err := brand.NewKeyChange(s.Customer.UserID, "1790000000000", []Recipient{
		{UserID: s.Customer.UserID, PublicKey: s.Customer.IdentityPublicKey, KeyVersion: s.Customer.Version}})
	if err != nil {
		t.Fatal(err)
	}
	defer clear(kc.Key)
	const text = "Hola, te escribimos por aquí para seguir con tu reserva."
	msg := must(brand.EncryptMessage(s.Customer.UserID, kc.Key, kc.KeyVersion, text))
	got := chatsdk.Decrypt(t, s.customer(), []SigningKey{s.Customer, must(brand.SigningKey())},
		[]string{frameKeyChangeOf(t, kc, brand.UserID), base64.StdEncoding.EncodeToString(frame(t, msg, "21", brand.UserID, kc.ConversationID))})
	if len(got) != 2 {
		t.Fatalf("SDK decryptEvents = %+v", got)
	}
	if kcm, m := got[0], got[1]; kcm.Type != "keyChange" || !kcm.Verified || m.Type != "message" || !m.Verified || m.Content.Text != text {
		t.Errorf("the SDK read the Go key change and message as %+v; want both verified, and %q", got, text)
	}
}

// TestSDKInterop runs a conversation between a customer on X's SDK and the
// brand on this package: the SDK starts it with a key change and a message,
// which Go verifies and decrypts; Go replies, and the SDK verifies and
// decrypts the reply.
func TestSDKInterop(t *testing.T) {
	v := loadVectors(t)
	brand := v.identity(t)
	const hello, answer = "Hola, mi pedido no llegó 📦", "Lo sentimos: ¿nos das el número de pedido?"
	var s sdkSetup
	chatsdk.Run(t, map[string]string{
		"op": "setup", "brandId": brand.UserID, "brandIdentityKey": brand.PublicKeys().Identity,
		"brandKeyVersion": brand.KeyVersion, "customerId": "2222", "text": hello,
	}, &s)
	var signers SigningKeySet
	if err := signers.Add(s.Customer); err != nil {
		t.Fatalf("customer's registered keys: %v", err)
	}
	self := must(brand.SigningKey())
	if err := signers.Add(self); err != nil {
		t.Fatal(err)
	}
	keyChange := s.frameKeyChange(t)
	keys, err := brand.ConversationKeys(parse(t, keyChange), &signers)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(keys[s.ConversationKeyVersion], b64(t, s.ConversationKey)) {
		t.Fatalf("conversation key %v differs from the SDK's", keys)
	}
	message := frame(t, s.Payload, "11", s.Customer.UserID, s.ConversationID)
	m, err := Decrypt(must(ParseEvent(message)), keys, &signers)
	if err != nil || m.Content.Text != hello {
		t.Fatalf("Decrypt(SDK message) = %v, %v; want %q", m, err, hello)
	}
	reply, err := brand.EncryptMessage(s.Customer.UserID, keys[s.ConversationKeyVersion], s.ConversationKeyVersion, answer)
	if err != nil {
		t.Fatal(err)
	}
	got := chatsdk.Decrypt(t, s.customer(), []SigningKey{s.Customer, self}, []string{keyChange, base64.StdEncoding.EncodeToString(message),
		base64.StdEncoding.EncodeToString(frame(t, reply, "12", brand.UserID, s.ConversationID))})
	if len(got) != 3 {
		t.Fatalf("SDK decryptEvents = %+v", got)
	}
	t.Logf("SDK decrypted: %+v", got)
	last := got[2]
	if last.Type != "message" || !last.Verified || last.SenderID != brand.UserID || last.Content.Text != answer {
		t.Errorf("SDK decrypted the reply as %+v, want verified %q", last, answer)
	}
}

// sdkKeys is the reply to the "keys" request.
type sdkKeys struct {
	Fingerprint                         string
	PublicKeys                          PublicKeys
	Matches, Binding, ReverseBinding    bool
	CrossedBinding                      bool
	IdentitySignature, SigningSignature string
	SDKKeys                             string `json:"sdkKeys"`
	SDKRegistration                     struct {
		PublicKey       Registration
		Version         string
		GenerateVersion bool
	} `json:"sdkRegistration"`
}

// TestSDKKeyRegistration proves GenerateIdentity, Export and Registration
// against X's SDK both ways. The SDK imports Go's exported keys and computes
// the same public keys and fingerprint; it accepts Go's binding signature
// (verifyKeyBinding) and the reverse one (the identity key's over the signing
// key, arguments swapped), and, signing deterministically like Go, makes the
// same two signatures byte for byte. Go verifies the registration the SDK
// generates, and rebuilds it exactly from the SDK's exported keys.
func TestSDKKeyRegistration(t *testing.T) {
	id := must(GenerateIdentity())
	reg := must(id.Registration())
	keys := id.Export()
	defer clear(keys)
	swapped := append(bytes.Clone(keys[32:]), keys[:32]...)
	defer clear(swapped)
	var got sdkKeys
	chatsdk.Run(t, map[string]any{
		"op": "keys", "keys": base64.StdEncoding.EncodeToString(keys),
		"swappedKeys": base64.StdEncoding.EncodeToString(swapped), "registration": reg,
	}, &got)
	switch {
	case got.PublicKeys != id.PublicKeys():
		t.Errorf("the SDK derives public keys %+v from Go's export, want %+v", got.PublicKeys, id.PublicKeys())
	case got.Fingerprint != reg.PublicKeyFingerprint || got.Fingerprint != id.Fingerprint():
		t.Errorf("the SDK's fingerprint %q, Go's %q", got.Fingerprint, reg.PublicKeyFingerprint)
	case !got.Matches:
		t.Error("the SDK's matchesRegisteredKey refuses Go's SPKI identity key")
	case !got.Binding || !got.ReverseBinding:
		t.Errorf("the SDK's verifyKeyBinding: identity binding %v, reverse binding %v; want both true", got.Binding, got.ReverseBinding)
	case got.CrossedBinding:
		t.Error("the SDK accepts the wrong signature as the binding: the check proves nothing")
	case got.IdentitySignature != reg.IdentityPublicKeySignature || got.SigningSignature != reg.SigningPublicKeySignature:
		t.Errorf("the SDK signs differently:\nidentity key %s vs Go %s\nsigning key %s vs Go %s",
			got.IdentitySignature, reg.IdentityPublicKeySignature, got.SigningSignature, reg.SigningPublicKeySignature)
	}

	sdkReg := got.SDKRegistration
	if err := sdkReg.PublicKey.Verify(); err != nil {
		t.Errorf("Verify(the SDK's registration): %v", err)
	}
	if !sdkReg.GenerateVersion || sdkReg.Version == "" || strings.Trim(sdkReg.Version, "0123456789") != "" {
		t.Errorf("the SDK's registration payload: version %q, generateVersion %v", sdkReg.Version, sdkReg.GenerateVersion)
	}
	sdkID, err := ParseIdentityBase64(got.SDKKeys)
	if err != nil {
		t.Fatal(err)
	}
	if again := must(sdkID.Registration()); again != sdkReg.PublicKey {
		t.Errorf("Go's registration of the SDK's keys differs from the SDK's:\n%+v\n%+v", again, sdkReg.PublicKey)
	}
}
