package xchat

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/apache/thrift/lib/go/thrift"
	"golang.org/x/crypto/nacl/secretbox"
)

// A SendPayload is an encrypted, signed message ready for the X API, as the
// SDK's encryptMessage returns it; the JSON names are the SDK's.
type SendPayload struct {
	// MessageID is the message's id (a random UUID), bound into the
	// signature. Reuse the payload on retries so one message keeps one id.
	MessageID string `json:"messageId"`

	// EncryptedContent is the base64 Thrift MessageCreateEvent.
	EncryptedContent string `json:"encryptedContent"`

	// Signature is the base64 (unpadded) raw ECDSA signature.
	Signature string `json:"signature"`

	// EncodedEventSignature is the base64 Thrift MessageEventSignature.
	EncodedEventSignature string `json:"encodedEventSignature"`

	SignatureInfo          SignatureInfo `json:"signatureInfo"`
	ConversationKeyVersion string        `json:"conversationKeyVersion"`
	ShouldNotify           bool          `json:"shouldNotify"`
}

// SignatureInfo names the signing key version and the signature version.
type SignatureInfo struct {
	PublicKeyVersion string `json:"publicKeyVersion"`
	SignatureVersion string `json:"signatureVersion"`
}

// EncryptMessage encrypts a text message for a conversation under the
// conversation key of version keyVersion, and signs it as the identity's
// user with its signing key (both UserID and KeyVersion must be set).
// conversationID may be the event form "<low>:<high>", the hyphenated form,
// or the other participant's bare user id; the signature covers the
// canonical "<low>:<high>" form, as the SDK's does.
func (id *Identity) EncryptMessage(conversationID string, key []byte, keyVersion, text string) (SendPayload, error) {
	messageID, err := newUUID()
	if err != nil {
		return SendPayload{}, err
	}
	return id.EncryptMessageWithID(messageID, conversationID, key, keyVersion, text)
}

// EncryptMessageWithID is EncryptMessage with the message id given: a sender
// that retries a message keeps its id (X's message_id), so that the retry is
// the same message, not a second one. The id must be a UUID.
func (id *Identity) EncryptMessageWithID(messageID, conversationID string, key []byte, keyVersion, text string) (SendPayload, error) {
	if !isUUID(messageID) {
		return SendPayload{}, fmt.Errorf("xchat: message id %q is not a UUID", messageID)
	}
	if id.signing == nil {
		return SendPayload{}, errNoKeys
	}
	if id.UserID == "" || id.KeyVersion == "" {
		return SendPayload{}, errors.New("xchat: identity has no UserID or KeyVersion")
	}
	if len(key) != keySize {
		return SendPayload{}, fmt.Errorf("xchat: conversation key is %d bytes, want %d", len(key), keySize)
	}
	if !utf8.ValidString(text) {
		return SendPayload{}, errors.New("xchat: text is not valid UTF-8")
	}
	content, err := textContent(text)
	if err != nil {
		return SendPayload{}, err
	}
	defer clear(content)
	sealed, err := sealBox(key, content)
	if err != nil {
		return SendPayload{}, err
	}
	return id.signMessage(messageID, canonicalConversationID(conversationID, id.UserID), keyVersion, sealed)
}

// signMessage wraps sealed content in a MessageCreateEvent and signs it.
func (id *Identity) signMessage(messageID, conversationID, keyVersion string, sealed []byte) (SendPayload, error) {
	p, err := payload([]byte("MessageCreateEvent"), []byte(messageID), []byte(id.UserID),
		[]byte(conversationID), []byte(keyVersion), []byte(base64.RawStdEncoding.EncodeToString(sealed)))
	if err != nil {
		return SendPayload{}, err
	}
	sig, err := id.sign(p)
	if err != nil {
		return SendPayload{}, err
	}
	e := newEncoder()
	e.binary(100, sealed)
	e.str(101, keyVersion)
	e.boolean(102, true)
	e.stop()
	event, err := e.bytes()
	if err != nil {
		return SendPayload{}, fmt.Errorf("xchat: encoding message: %w", err)
	}
	sigB64 := base64.RawStdEncoding.EncodeToString(sig)
	e = newEncoder()
	e.str(1, sigB64)
	e.str(2, id.KeyVersion)
	e.str(3, signatureVersion)
	e.stop()
	sigStruct, err := e.bytes()
	if err != nil {
		return SendPayload{}, fmt.Errorf("xchat: encoding signature: %w", err)
	}
	return SendPayload{
		MessageID:              messageID,
		EncryptedContent:       base64.StdEncoding.EncodeToString(event),
		Signature:              sigB64,
		EncodedEventSignature:  base64.StdEncoding.EncodeToString(sigStruct),
		SignatureInfo:          SignatureInfo{PublicKeyVersion: id.KeyVersion, SignatureVersion: signatureVersion},
		ConversationKeyVersion: keyVersion,
		ShouldNotify:           true,
	}, nil
}

// textContent encodes a MessageEntryHolder holding a text message.
func textContent(text string) ([]byte, error) {
	e := newEncoder()
	e.begin(thrift.STRUCT, 1) // MessageEntryHolder.contents
	e.begin(thrift.STRUCT, 1) // MessageEntryContents.message
	e.str(1, text)            // MessageContents.message_text
	e.stop()
	e.stop()
	e.stop()
	b, err := e.bytes()
	if err != nil {
		return nil, fmt.Errorf("xchat: encoding content: %w", err)
	}
	return b, nil
}

// sealBox seals content with secretbox under a random nonce: nonce, tag,
// ciphertext.
func sealBox(key, content []byte) ([]byte, error) {
	var k [keySize]byte
	var nonce [nonceSize]byte
	defer clear(k[:])
	copy(k[:], key)
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("xchat: nonce: %w", err)
	}
	return secretbox.Seal(nonce[:], content, &nonce, &k), nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("xchat: message id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// isUUID reports whether s is a UUID in its canonical text form (8-4-4-4-12
// hexadecimal digits).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range []byte(s) {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// OneToOne returns the id of the one-to-one conversation between two users
// (decimal X ids) as events carry it: "<lower id>:<higher id>".
func OneToOne(a, b string) string { return joinSorted(a, b) }

// canonicalConversationID rewrites a one-to-one conversation id into the
// form events carry and signatures cover: the two user ids, numerically
// ordered and joined by a colon. The id may be "<a>:<b>", "<a>-<b>" in
// either order, or the other user's bare id, paired with sender. Anything
// else, group ids included, is returned unchanged.
func canonicalConversationID(id, sender string) string {
	if i := strings.IndexAny(id, ":-"); i >= 0 {
		a, b := id[:i], id[i+1:]
		if digits(a) && digits(b) {
			return joinSorted(a, b)
		}
		return id
	}
	if digits(id) && digits(sender) {
		return joinSorted(id, sender)
	}
	return id
}

// joinSorted joins two decimal ids smaller first, comparing by length and
// then lexically, which is numeric order for any size.
func joinSorted(a, b string) string {
	if len(a) > len(b) || len(a) == len(b) && a > b {
		a, b = b, a
	}
	return a + ":" + b
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
