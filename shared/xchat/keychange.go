package xchat

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/apache/thrift/lib/go/thrift"
)

// A Recipient is a participant a conversation key is encrypted to: a user's
// identity public key (base64 SEC1 or SPKI) of one key version, as X's key
// registry serves it (check its binding to the user's signing key first:
// SigningKeySet.Add).
type Recipient struct {
	UserID     string
	PublicKey  string
	KeyVersion string
}

// A KeyChange is a new conversation key, encrypted to each participant and
// signed: what X's add-conversation-keys route takes, as the SDK's
// prepareConversationKeyChange makes it.
type KeyChange struct {
	// ConversationID is the conversation, "<low>:<high>" for one-to-one.
	ConversationID string
	// Key is the new conversation key (32 bytes): keep it sealed, and zero it.
	Key []byte
	// KeyVersion is its version (the time in milliseconds, as the SDK's).
	KeyVersion string
	// ParticipantKeys are the key encrypted to each participant.
	ParticipantKeys []ParticipantKey
	// MessageID, EncodedMessageEventDetail (base64 Thrift MessageEventDetail),
	// Signature (base64 raw r||s), SignatureVersion and PublicKeyVersion (the
	// signing key's) are the change's action signature.
	MessageID                 string
	EncodedMessageEventDetail string
	Signature                 string
	SignatureVersion          string
	PublicKeyVersion          string
}

// NewKeyChange makes a new conversation key of version keyVersion for the
// conversation with the recipients (the identity's own user is added when
// absent, so that it can read its own messages), encrypts it to each of
// them (ECIES) and signs the change as the identity's user. conversationID
// may be the other participant's bare user id, as for EncryptMessage.
func (id *Identity) NewKeyChange(conversationID, keyVersion string, recipients []Recipient) (*KeyChange, error) {
	if id.signing == nil {
		return nil, errNoKeys
	}
	if id.UserID == "" || id.KeyVersion == "" || keyVersion == "" {
		return nil, errors.New("xchat: a key change needs the identity's UserID and KeyVersion, and a key version")
	}
	if !hasRecipient(recipients, id.UserID) {
		recipients = append(recipients, Recipient{UserID: id.UserID, PublicKey: id.PublicKeys().Identity, KeyVersion: id.KeyVersion})
	}
	kc := &KeyChange{ConversationID: canonicalConversationID(conversationID, id.UserID), KeyVersion: keyVersion,
		SignatureVersion: signatureVersion, PublicKeyVersion: id.KeyVersion, Key: make([]byte, keySize)}
	if _, err := rand.Read(kc.Key); err != nil {
		return nil, fmt.Errorf("xchat: conversation key: %w", err)
	}
	for _, r := range recipients {
		pub, err := parseP256("identity public key of user "+r.UserID, r.PublicKey)
		if err != nil {
			clear(kc.Key)
			return nil, err
		}
		epub, err := pub.ECDH()
		if err != nil {
			clear(kc.Key)
			return nil, fmt.Errorf("xchat: identity public key of user %s: %w", r.UserID, err)
		}
		ct, err := sealECIES(epub, kc.Key)
		if err != nil {
			clear(kc.Key)
			return nil, fmt.Errorf("xchat: encrypt the conversation key: %w", err)
		}
		kc.ParticipantKeys = append(kc.ParticipantKeys, ParticipantKey{UserID: r.UserID,
			EncryptedKey: base64.StdEncoding.EncodeToString(ct), PublicKeyVersion: r.KeyVersion})
	}
	if err := id.signKeyChange(kc); err != nil {
		clear(kc.Key)
		return nil, err
	}
	return kc, nil
}

// signKeyChange encodes the change's detail and signs it; the signature
// covers the plaintext key, as the receivers verify it (verifyKeyChange).
func (id *Identity) signKeyChange(kc *KeyChange) error {
	var err error
	if kc.MessageID, err = newUUID(); err != nil {
		return err
	}
	b64 := []byte(base64.RawStdEncoding.EncodeToString(kc.Key))
	defer clear(b64)
	p, err := payload([]byte("ConversationKeyChangeEvent"), []byte(kc.MessageID), []byte(id.UserID),
		[]byte(kc.ConversationID), []byte(kc.KeyVersion), b64)
	if err != nil {
		return err
	}
	defer clear(p)
	sig, err := id.sign(p)
	if err != nil {
		return err
	}
	kc.Signature = base64.RawStdEncoding.EncodeToString(sig)
	e := newEncoder()
	e.begin(thrift.STRUCT, 3) // MessageEventDetail: ConversationKeyChangeEvent
	e.str(1, kc.KeyVersion)
	e.begin(thrift.LIST, 2)
	e.check(e.p.WriteListBegin(ctx, thrift.STRUCT, len(kc.ParticipantKeys)))
	for _, pk := range kc.ParticipantKeys {
		e.str(1, pk.UserID)
		e.str(2, pk.EncryptedKey)
		e.str(3, pk.PublicKeyVersion)
		e.stop()
	}
	e.check(e.p.WriteListEnd(ctx))
	e.stop()
	e.stop()
	detail, err := e.bytes()
	if err != nil {
		return fmt.Errorf("xchat: encoding the key change: %w", err)
	}
	kc.EncodedMessageEventDetail = base64.StdEncoding.EncodeToString(detail)
	return nil
}

func hasRecipient(rs []Recipient, user string) bool {
	for _, r := range rs {
		if r.UserID == user {
			return true
		}
	}
	return false
}
