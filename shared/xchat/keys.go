package xchat

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// An Identity holds an account's private keys: the identity key (ECDH
// P-256), which decrypts conversation keys, and the signing key (ECDSA
// P-256), which signs outgoing events. Its formatted form (fmt's %v and
// friends) shows the user id and key version, never the keys.
type Identity struct {
	// UserID is the account's X user id: the sender of what it encrypts,
	// and the participant whose key it looks for in key changes.
	UserID string

	// KeyVersion is the public key version the keys were registered under:
	// the signing key version stamped on outgoing signatures, and the
	// version of the participant keys meant for this identity.
	KeyVersion string

	identity *ecdh.PrivateKey
	signing  *ecdsa.PrivateKey
}

// ParseIdentity parses private keys in the SDK's exported form: the 32-byte
// identity scalar followed by the 32-byte signing scalar. Set UserID and
// KeyVersion on the result before use. The identity does not retain
// privateKeys, which the caller may then zero.
func ParseIdentity(privateKeys []byte) (*Identity, error) {
	if len(privateKeys) != 64 {
		return nil, fmt.Errorf("xchat: private keys are %d bytes, want 64 (identity then signing key)", len(privateKeys))
	}
	return NewIdentity(privateKeys[:32], privateKeys[32:])
}

// ParseIdentityBase64 is ParseIdentity for the base64 of the exported keys.
func ParseIdentityBase64(privateKeys string) (*Identity, error) {
	b, err := decodeBase64(privateKeys)
	defer clear(b)
	if err != nil {
		return nil, errors.New("xchat: private keys are not base64")
	}
	return ParseIdentity(b)
}

// NewIdentity returns an identity from its two 32-byte private scalars.
func NewIdentity(identityKey, signingKey []byte) (*Identity, error) {
	idk, err := ecdh.P256().NewPrivateKey(identityKey)
	if err != nil {
		return nil, errors.New("xchat: invalid identity private key")
	}
	sk, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), signingKey)
	if err != nil {
		return nil, errors.New("xchat: invalid signing private key")
	}
	return &Identity{identity: idk, signing: sk}, nil
}

// Format prints the identity without its private keys.
func (id Identity) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "xchat.Identity{UserID:%q KeyVersion:%q keys:[REDACTED]}", id.UserID, id.KeyVersion)
}

// PublicKeys are an account's public keys in the SDK's form: base64 of the
// uncompressed P-256 points (65 bytes).
type PublicKeys struct {
	Identity string
	Signing  string
}

// errNoKeys reports an Identity that was not made by this package.
var errNoKeys = errors.New("xchat: identity holds no keys: use ParseIdentity or NewIdentity")

// PublicKeys returns the identity's public keys; both are empty for an
// Identity made without keys.
func (id *Identity) PublicKeys() PublicKeys {
	if id.identity == nil || id.signing == nil {
		return PublicKeys{}
	}
	sp, _ := id.signing.PublicKey.Bytes() // cannot fail for a parsed P-256 key
	return PublicKeys{
		Identity: base64.StdEncoding.EncodeToString(id.identity.PublicKey().Bytes()),
		Signing:  base64.StdEncoding.EncodeToString(sp),
	}
}

// SigningKey returns the identity's own entry for a [SigningKeySet], with
// the binding signature made over the uncompressed identity public key, so
// that events the identity sent verify too.
func (id *Identity) SigningKey() (SigningKey, error) {
	if id.identity == nil || id.signing == nil {
		return SigningKey{}, errNoKeys
	}
	pub := id.PublicKeys()
	sig, err := id.sign(id.identity.PublicKey().Bytes())
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKey{
		UserID:                     id.UserID,
		Version:                    id.KeyVersion,
		PublicKey:                  pub.Signing,
		IdentityPublicKey:          pub.Identity,
		IdentityPublicKeySignature: base64.StdEncoding.EncodeToString(sig),
	}, nil
}

// A SigningKey is a user's registered public keys, as the X API serves them:
// the signing key, the identity key, and the signing key's signature over
// the identity key's bytes, which binds the two. Keys are base64 of the
// uncompressed point or of its SPKI encoding; the signature is raw r||s.
// The JSON names are those of the SDK's SigningKeyEntry.
type SigningKey struct {
	UserID                     string `json:"userId"`
	Version                    string `json:"publicKeyVersion"`
	PublicKey                  string `json:"publicKey"`
	IdentityPublicKey          string `json:"identityPublicKey"`
	IdentityPublicKeySignature string `json:"identityPublicKeySignature"`
}

// SigningKeys looks up the signing key a user registered under a public key
// version. Only keys the caller obtained from a trusted source (the X API)
// belong here: a key carried inside an event is never trusted.
type SigningKeys interface {
	SigningKey(userID, version string) (*ecdsa.PublicKey, bool)
}

type signerRef struct{ userID, version string }

// A SigningKeySet is a SigningKeys held in memory. The zero value is an
// empty set ready to use.
type SigningKeySet struct {
	keys map[signerRef]*ecdsa.PublicKey
}

// Add checks a registered key's identity binding and adds it to the set. It
// fails, wrapping ErrBadSignature, when the signing key did not sign the
// identity key, which would betray a substituted key.
func (s *SigningKeySet) Add(k SigningKey) error {
	pub, err := parseSigningPublicKey(k.PublicKey)
	if err != nil {
		return err
	}
	identity, err := decodeBase64(k.IdentityPublicKey)
	if err != nil {
		return malformed("identity public key is not base64", err)
	}
	sig, err := decodeBase64(k.IdentityPublicKeySignature)
	if err != nil || !verifyRaw(pub, sig, identity) {
		return fmt.Errorf("%w: signing key of user %q version %q does not sign its identity key", ErrBadSignature, k.UserID, k.Version)
	}
	if s.keys == nil {
		s.keys = make(map[signerRef]*ecdsa.PublicKey)
	}
	s.keys[signerRef{k.UserID, k.Version}] = pub
	return nil
}

// SigningKey returns the key a user registered under a version.
func (s *SigningKeySet) SigningKey(userID, version string) (*ecdsa.PublicKey, bool) {
	if s == nil {
		return nil, false
	}
	k, ok := s.keys[signerRef{userID, version}]
	return k, ok
}

// Len returns the number of keys in the set.
func (s *SigningKeySet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.keys)
}

// parseSigningPublicKey parses a base64 P-256 public key, uncompressed
// (65 bytes) or SPKI (91 bytes).
func parseSigningPublicKey(s string) (*ecdsa.PublicKey, error) {
	return parseP256("signing public key", s)
}

// parseP256 parses a base64 P-256 public key, uncompressed (65 bytes) or
// SPKI (91 bytes); what names it in errors.
func parseP256(what, s string) (*ecdsa.PublicKey, error) {
	b, err := decodeBase64(s)
	if err != nil {
		return nil, malformed(what+" is not base64", err)
	}
	if len(b) == 65 {
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), b)
		if err != nil {
			return nil, malformed(what, err)
		}
		return pub, nil
	}
	key, err := x509.ParsePKIXPublicKey(b)
	if err != nil {
		return nil, malformed(what, err)
	}
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, malformed(what+" is not a P-256 key", nil)
	}
	return pub, nil
}

// ConversationKeys maps conversation key versions to 32-byte conversation
// keys. Its formatted form shows the versions only.
type ConversationKeys map[string][]byte

// Format prints the key versions, never the keys.
func (k ConversationKeys) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "xchat.ConversationKeys[%s]", strings.Join(slices.Sorted(maps.Keys(k)), " "))
}

// Zero overwrites every key with zeros and empties the map.
func (k ConversationKeys) Zero() {
	for v, key := range k {
		clear(key)
		delete(k, v)
	}
}
