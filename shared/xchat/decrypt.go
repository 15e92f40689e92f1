package xchat

import (
	"fmt"
	"time"

	"golang.org/x/crypto/nacl/secretbox"
)

// The secretbox wire format (CRYPTO.md §5): nonce, then tag and ciphertext.
const nonceSize = 24

// A Message is a verified, decrypted message event.
type Message struct {
	// Event is the message's event. Its sender, message id, conversation id
	// and key version are covered by the verified signature; its sequence
	// id and creation time are not.
	Event *Event

	Content Content

	// ShouldNotify is the sender's push-notification request; true when
	// the event does not say, as the SDK sends by default.
	ShouldNotify bool

	// TTL is how long a disappearing message lives; 0 if it does not.
	TTL time.Duration

	// ReplyTo is the preview of the message this one replies to, or nil.
	ReplyTo *ReplyPreview
}

// Decrypt verifies a message event and decrypts it. The signature is checked
// first, against the key signers holds for the event's sender and signing
// key version; the content is then opened with the conversation key of the
// event's key version. A reply's preview is checked against the signed
// original it embeds, which needs the original's sender in signers and its
// key version in keys; a preview that fails is flagged in
// Message.ReplyTo.Validation, and the reply itself still decrypts.
//
// Errors wrap ErrMalformed, ErrUnsupported (not a message, unencrypted,
// signature version not 7), ErrUnverified, ErrBadSignature, ErrNoKey or
// ErrTampered.
func Decrypt(ev *Event, keys ConversationKeys, signers SigningKeys) (*Message, error) {
	if ev == nil {
		return nil, malformed("nil event", nil)
	}
	pt, err := open(ev, keys, signers)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	content, p, err := parseContent(pt)
	if err != nil {
		return nil, err
	}
	m := &Message{Event: ev, Content: content, ShouldNotify: ev.msg.shouldNotify || !ev.msg.hasNotify}
	if ev.msg.hasTTL {
		m.TTL = time.Duration(ev.msg.ttlMsec) * time.Millisecond
	}
	if p != nil {
		m.ReplyTo = p.public()
		if p.original != nil {
			m.ReplyTo.Validation = PreviewValid
			if err := p.validate(ev, keys, signers); err != nil {
				m.ReplyTo.Validation, m.ReplyTo.Reason = PreviewInvalid, err
			}
		}
	}
	return m, nil
}

// Verify verifies a message event's signature, against the key signers holds
// for its sender and signing key version, without decrypting it: what X's
// backend can check of a message it relays. Errors are Decrypt's.
func Verify(ev *Event, signers SigningKeys) error {
	if ev == nil {
		return malformed("nil event", nil)
	}
	if ev.Kind != KindMessage || ev.msg == nil {
		return fmt.Errorf("%w: %s event is not a message", ErrUnsupported, ev.Kind)
	}
	if !ev.msg.hasContents {
		return malformed("message has no contents", nil)
	}
	if !ev.msg.hasKeyVer {
		return fmt.Errorf("%w: unencrypted message carries no signature", ErrUnsupported)
	}
	return verifyMessage(ev, signers)
}

// open verifies a message event's signature and decrypts its content.
func open(ev *Event, keys ConversationKeys, signers SigningKeys) ([]byte, error) {
	if err := Verify(ev, signers); err != nil {
		return nil, err
	}
	key, ok := keys[ev.msg.keyVersion]
	if !ok {
		return nil, fmt.Errorf("%w: version %q", ErrNoKey, ev.msg.keyVersion)
	}
	return openBox(key, ev.msg.contents)
}

// openBox opens secretbox output: nonce, tag, ciphertext.
func openBox(key, data []byte) ([]byte, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("%w: conversation key is %d bytes, want %d", ErrNoKey, len(key), keySize)
	}
	if len(data) < nonceSize+secretbox.Overhead {
		return nil, malformed(fmt.Sprintf("ciphertext is %d bytes, shorter than nonce and tag", len(data)), nil)
	}
	var k [keySize]byte
	var nonce [nonceSize]byte
	defer clear(k[:])
	copy(k[:], key)
	copy(nonce[:], data)
	pt, ok := secretbox.Open(nil, data[nonceSize:], &nonce, &k)
	if !ok {
		return nil, ErrTampered
	}
	return pt, nil
}
