package xchat

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// signatureVersion is the signature protocol version this package produces
// and accepts (CRYPTO.md §7, SIGNATURE_VERSION).
const signatureVersion = "7"

// sign signs msg with the identity's signing key: ECDSA P-256 over SHA-256,
// deterministic (RFC 6979) like the SDK, as raw r||s.
func (id *Identity) sign(msg []byte) ([]byte, error) {
	return signWith(id.signing, msg)
}

// signWith signs msg with key: ECDSA P-256 over SHA-256, deterministic
// (RFC 6979), as raw r||s.
func signWith(key *ecdsa.PrivateKey, msg []byte) ([]byte, error) {
	h := sha256.Sum256(msg)
	der, err := key.Sign(nil, h[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("xchat: signing: %w", err)
	}
	var r, s []byte
	in, seq := cryptobyte.String(der), cryptobyte.String(nil)
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !seq.ReadASN1Integer(&r) || !seq.ReadASN1Integer(&s) {
		return nil, fmt.Errorf("xchat: signing: unexpected signature encoding")
	}
	out := make([]byte, 64)
	new(big.Int).SetBytes(r).FillBytes(out[:32])
	new(big.Int).SetBytes(s).FillBytes(out[32:])
	return out, nil
}

// verifyRaw reports whether sig, a raw r||s signature, signs msg under pub.
func verifyRaw(pub *ecdsa.PublicKey, sig, msg []byte) bool {
	if len(sig) != 64 {
		return false
	}
	h := sha256.Sum256(msg)
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:])
	return ecdsa.Verify(pub, h[:], r, s)
}

// payload builds a signed payload: the components joined by commas. The
// payload has no escaping, so a component holding a comma cannot be signed
// or verified. The result is a fresh slice the caller may zero.
func payload(components ...[]byte) ([]byte, error) {
	var out []byte
	for i, c := range components {
		if slices.Contains(c, ',') {
			clear(out)
			return nil, fmt.Errorf("%w: signed field holds a comma", ErrBadSignature)
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, c...)
	}
	return out, nil
}

// eventPayload builds the payload of an event: its type name, message id,
// sender id and conversation id (left out when the event has none, as the
// SDK does) and the type's extra components.
func eventPayload(ev *Event, name string, extra ...[]byte) ([]byte, error) {
	c := [][]byte{[]byte(name), []byte(ev.MessageID), []byte(ev.SenderID)}
	if ev.hasConversationID {
		c = append(c, []byte(ev.ConversationID))
	}
	return payload(append(c, extra...)...)
}

// signer returns the registered key the event claims to be signed with and
// the raw signature, after checking the signature's presence and version.
func signer(ev *Event, signers SigningKeys) (*ecdsa.PublicKey, []byte, error) {
	if ev.sig == nil || !ev.sig.hasSignature {
		return nil, nil, fmt.Errorf("%w: event is not signed", ErrBadSignature)
	}
	if ev.SignatureVersion != signatureVersion {
		return nil, nil, fmt.Errorf("%w: signature version %q, want %q", ErrUnsupported, ev.SignatureVersion, signatureVersion)
	}
	if !ev.hasMessageID || !ev.hasSenderID {
		return nil, nil, malformed("signed event lacks its message id or sender id", nil)
	}
	var pub *ecdsa.PublicKey
	ok := false
	if signers != nil {
		pub, ok = signers.SigningKey(ev.SenderID, ev.SigningKeyVersion)
	}
	if !ok || pub == nil {
		return nil, nil, fmt.Errorf("%w: user %q, signing key version %q", ErrUnverified, ev.SenderID, ev.SigningKeyVersion)
	}
	sig, err := decodeBase64(ev.sig.signature)
	if err != nil || len(sig) != 64 {
		return nil, nil, fmt.Errorf("%w: signature is not 64 bytes of base64", ErrBadSignature)
	}
	return pub, sig, nil
}

// verifyMessage verifies a message event's signature, which covers its
// conversation key version and its ciphertext.
func verifyMessage(ev *Event, signers SigningKeys) error {
	pub, sig, err := signer(ev, signers)
	if err != nil {
		return err
	}
	contents := base64.RawStdEncoding.EncodeToString(ev.msg.contents)
	p, err := eventPayload(ev, "MessageCreateEvent", []byte(ev.msg.keyVersion), []byte(contents))
	if err != nil {
		return err
	}
	if !verifyRaw(pub, sig, p) {
		return fmt.Errorf("%w: message %q from user %q", ErrBadSignature, ev.MessageID, ev.SenderID)
	}
	return nil
}

// verifyKeyChange verifies a key change's signature, which covers the key
// version and the plaintext conversation key (signature versions 6 and up).
func verifyKeyChange(ev *Event, key []byte, pub *ecdsa.PublicKey, sig []byte) error {
	b64 := make([]byte, base64.RawStdEncoding.EncodedLen(len(key)))
	defer clear(b64)
	base64.RawStdEncoding.Encode(b64, key)
	p, err := eventPayload(ev, "ConversationKeyChangeEvent", []byte(ev.KeyVersion), b64)
	if err != nil {
		return err
	}
	defer clear(p)
	if !verifyRaw(pub, sig, p) {
		return fmt.Errorf("%w: key change %q from user %q", ErrBadSignature, ev.MessageID, ev.SenderID)
	}
	return nil
}
