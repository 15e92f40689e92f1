package xchat

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
)

// RegistrationMethod is the registration method the SDK declares for keys it
// generates, and so does Registration.
const RegistrationMethod = "CustomPin"

// A Registration is the public half of an identity as X registers it (POST
// /2/users/{id}/public_keys, its public_key object) and as the SDK's
// generateKeypairs returns it (its publicKey object, whose JSON names these
// are). Keys are base64 of their SPKI encoding; signatures are base64 of raw
// r||s (ECDSA P-256 over SHA-256), each over the other key's SPKI bytes:
//
//   - IdentityPublicKeySignature: the signing key signs the identity key.
//   - SigningPublicKeySignature: the identity key signs the signing key.
//
// Together they bind the two keys both ways. PublicKeyFingerprint is the
// identity key's fingerprint (see Identity.Fingerprint).
type Registration struct {
	IdentityPublicKeySignature string `json:"identityPublicKeySignature"`
	PublicKey                  string `json:"publicKey"`
	PublicKeyFingerprint       string `json:"publicKeyFingerprint,omitempty"`
	RegistrationMethod         string `json:"registrationMethod"`
	SigningPublicKey           string `json:"signingPublicKey"`
	SigningPublicKeySignature  string `json:"signingPublicKeySignature,omitempty"`
}

// GenerateIdentity returns a new identity with fresh identity and signing key
// pairs, from crypto/rand. Set UserID and KeyVersion once X has registered it
// (see Registration).
func GenerateIdentity() (*Identity, error) {
	idk, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("xchat: generate the identity key: %w", err)
	}
	sk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("xchat: generate the signing key: %w", err)
	}
	return &Identity{identity: idk, signing: sk}, nil
}

// Export returns the private keys in the SDK's exported form, which
// ParseIdentity reads: the 32-byte identity scalar followed by the 32-byte
// signing scalar. It returns nil for an identity without keys. The slice is
// the caller's: zero it (clear) once it is stored.
func (id *Identity) Export() []byte {
	if id.identity == nil || id.signing == nil {
		return nil
	}
	sk, err := id.signing.Bytes()
	if err != nil {
		return nil // cannot happen for a P-256 key
	}
	defer clear(sk)
	ik := id.identity.Bytes()
	defer clear(ik)
	out := make([]byte, 0, len(ik)+len(sk))
	return append(append(out, ik...), sk...)
}

// Fingerprint returns the identity public key's fingerprint, as the SDK's
// getPublicKeyFingerprint computes it: the SHA-256 of the key's SPKI
// encoding, in unpadded URL-safe base64 (43 characters). People compare it
// out of band to check that a key X serves is the one its owner registered.
// It is "" for an identity without keys.
func (id *Identity) Fingerprint() string {
	if id.identity == nil {
		return ""
	}
	spki, err := x509.MarshalPKIXPublicKey(id.identity.PublicKey())
	if err != nil {
		return ""
	}
	return fingerprint(spki)
}

// PublicKeyFingerprint returns the fingerprint (see Identity.Fingerprint) of
// an identity public key given in base64, SPKI (as X serves it) or
// uncompressed.
func PublicKeyFingerprint(publicKey string) (string, error) {
	pub, err := parseP256("identity public key", publicKey)
	if err != nil {
		return "", err
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", malformed("identity public key", err)
	}
	return fingerprint(spki), nil
}

func fingerprint(spki []byte) string {
	sum := sha256.Sum256(spki)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Registration returns what X registers of the identity: its public keys,
// the signatures binding them, the fingerprint and the SDK's registration
// method. It is what the SDK's generateKeypairs returns for the same keys,
// byte for byte: the signatures are deterministic (RFC 6979) on both sides.
func (id *Identity) Registration() (Registration, error) {
	if id.identity == nil || id.signing == nil {
		return Registration{}, errNoKeys
	}
	idSPKI, err := x509.MarshalPKIXPublicKey(id.identity.PublicKey())
	if err != nil {
		return Registration{}, fmt.Errorf("xchat: encode the identity public key: %w", err)
	}
	sgSPKI, err := x509.MarshalPKIXPublicKey(&id.signing.PublicKey)
	if err != nil {
		return Registration{}, fmt.Errorf("xchat: encode the signing public key: %w", err)
	}
	idSig, err := signWith(id.signing, idSPKI)
	if err != nil {
		return Registration{}, err
	}
	sgSig, err := id.signWithIdentity(sgSPKI)
	if err != nil {
		return Registration{}, err
	}
	b64 := base64.StdEncoding.EncodeToString
	return Registration{
		IdentityPublicKeySignature: b64(idSig),
		PublicKey:                  b64(idSPKI),
		PublicKeyFingerprint:       fingerprint(idSPKI),
		RegistrationMethod:         RegistrationMethod,
		SigningPublicKey:           b64(sgSPKI),
		SigningPublicKeySignature:  b64(sgSig),
	}, nil
}

// signWithIdentity signs msg with the identity key used as an ECDSA key, as
// the SDK signs the signing key in a registration.
func (id *Identity) signWithIdentity(msg []byte) ([]byte, error) {
	scalar := id.identity.Bytes()
	defer clear(scalar)
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar)
	if err != nil {
		return nil, fmt.Errorf("xchat: signing with the identity key: %w", err)
	}
	return signWith(key, msg)
}

// Verify checks a registration as X's registration route would: both keys
// are P-256 public keys, the signing key signs the identity key's bytes, the
// identity key signs the signing key's bytes (when that signature is given),
// and the fingerprint, when given, is the identity key's. Its errors wrap
// ErrMalformed or ErrBadSignature.
func (r Registration) Verify() error {
	idPub, err := parseP256("identity public key", r.PublicKey)
	if err != nil {
		return err
	}
	sgPub, err := parseSigningPublicKey(r.SigningPublicKey)
	if err != nil {
		return err
	}
	idBytes, _ := decodeBase64(r.PublicKey) // both parsed above
	sgBytes, _ := decodeBase64(r.SigningPublicKey)
	sig, err := decodeBase64(r.IdentityPublicKeySignature)
	if err != nil || !verifyRaw(sgPub, sig, idBytes) {
		return fmt.Errorf("%w: the signing key does not sign the identity key (identity_public_key_signature)", ErrBadSignature)
	}
	if r.SigningPublicKeySignature != "" {
		sig, err := decodeBase64(r.SigningPublicKeySignature)
		if err != nil || !verifyRaw(idPub, sig, sgBytes) {
			return fmt.Errorf("%w: the identity key does not sign the signing key (signing_public_key_signature)", ErrBadSignature)
		}
	}
	if r.PublicKeyFingerprint != "" {
		if want, _ := PublicKeyFingerprint(r.PublicKey); want != r.PublicKeyFingerprint {
			return malformed("the fingerprint is not the identity key's", nil)
		}
	}
	return nil
}
