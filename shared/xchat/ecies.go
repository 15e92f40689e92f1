package xchat

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// The ECIES wire format (CRYPTO.md §4): the ephemeral public key, then the
// AES-128-GCM ciphertext and tag.
const (
	pointSize = 65 // uncompressed P-256 point
	tagSize   = 16
	keySize   = 32 // conversation key
)

// errOpen is the one error ECIES decryption reports, whatever went wrong.
var errOpen = errors.New("ECIES decryption failed")

// ConversationKeys returns the conversation key a key-change event carries
// for this identity, under the event's key version. It verifies the event's
// signature, which covers the plaintext key, against the sender's key in
// signers, and returns the key only if it verifies. Errors wrap
// ErrUnsupported (not a key change, signature version not 7), ErrUnverified
// (sender's key unknown), ErrNoKey (no participant key decrypts for this
// identity), ErrBadSignature or ErrMalformed.
func (id *Identity) ConversationKeys(ev *Event, signers SigningKeys) (ConversationKeys, error) {
	if id.identity == nil {
		return nil, errNoKeys
	}
	if ev == nil {
		return nil, malformed("nil event", nil)
	}
	if ev.Kind != KindKeyChange {
		return nil, fmt.Errorf("%w: %s event carries no conversation key", ErrUnsupported, ev.Kind)
	}
	if ev.KeyVersion == "" {
		return nil, malformed("key change lacks its key version", nil)
	}
	pub, sig, err := signer(ev, signers)
	if err != nil {
		return nil, err
	}
	key, err := id.participantKey(ev)
	if err != nil {
		return nil, err
	}
	if err := verifyKeyChange(ev, key, pub, sig); err != nil {
		clear(key)
		return nil, err
	}
	return ConversationKeys{ev.KeyVersion: key}, nil
}

// participantKey decrypts the first participant key meant for this identity,
// skipping entries addressed to another user or key version when both sides
// name one.
func (id *Identity) participantKey(ev *Event) ([]byte, error) {
	for _, pk := range ev.ParticipantKeys {
		if id.UserID != "" && pk.UserID != "" && pk.UserID != id.UserID {
			continue
		}
		if id.KeyVersion != "" && pk.PublicKeyVersion != "" && pk.PublicKeyVersion != id.KeyVersion {
			continue
		}
		ct, err := decodeBase64(pk.EncryptedKey)
		if err != nil {
			continue
		}
		key, err := openECIES(id.identity, ct)
		if err != nil {
			continue
		}
		if len(key) != keySize {
			clear(key)
			return nil, malformed(fmt.Sprintf("conversation key is %d bytes, want %d", len(key), keySize), nil)
		}
		return key, nil
	}
	return nil, fmt.Errorf("%w: no participant key of version %q decrypts for user %q", ErrNoKey, ev.KeyVersion, id.UserID)
}

// openECIES decrypts ECIES output with a P-256 identity key.
func openECIES(priv *ecdh.PrivateKey, data []byte) ([]byte, error) {
	if len(data) < pointSize+tagSize {
		return nil, errOpen
	}
	ephemeral, err := ecdh.P256().NewPublicKey(data[:pointSize])
	if err != nil {
		return nil, errOpen
	}
	aead, iv, err := eciesCipher(priv, ephemeral, data[:pointSize])
	if err != nil {
		return nil, errOpen
	}
	defer clear(iv)
	pt, err := aead.Open(nil, iv, data[pointSize:], nil)
	if err != nil {
		return nil, errOpen
	}
	return pt, nil
}

// sealECIES encrypts plaintext to a P-256 identity public key.
func sealECIES(pub *ecdh.PublicKey, plaintext []byte) ([]byte, error) {
	ephemeral, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	point := ephemeral.PublicKey().Bytes()
	aead, iv, err := eciesCipher(ephemeral, pub, point)
	if err != nil {
		return nil, err
	}
	defer clear(iv)
	return aead.Seal(point, iv, plaintext, nil), nil
}

// eciesCipher derives the AES-128-GCM cipher and its 16-byte nonce from the
// ECDH shared secret with the X9.63 KDF over SHA-256, the ephemeral public
// key as shared info. The caller zeroes the nonce.
func eciesCipher(priv *ecdh.PrivateKey, pub *ecdh.PublicKey, ephemeral []byte) (cipher.AEAD, []byte, error) {
	shared, err := priv.ECDH(pub)
	if err != nil {
		return nil, nil, err
	}
	defer clear(shared)
	kdf := x963KDF(shared, ephemeral)
	defer clear(kdf[:16])
	block, err := aes.NewCipher(kdf[:16])
	if err != nil {
		return nil, nil, err
	}
	aead, err := cipher.NewGCMWithNonceSize(block, 16)
	if err != nil {
		return nil, nil, err
	}
	return aead, kdf[16:], nil
}

// x963KDF is the ANSI X9.63 key derivation function over SHA-256 for one
// 32-byte block: SHA-256(secret || counter=1 || info).
func x963KDF(secret, info []byte) []byte {
	h := sha256.New()
	h.Write(secret)
	h.Write(binary.BigEndian.AppendUint32(nil, 1))
	h.Write(info)
	return h.Sum(nil)
}
