package xchat

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestGenerateIdentity(t *testing.T) {
	id := must(GenerateIdentity())
	keys := id.Export()
	if len(keys) != 64 {
		t.Fatalf("Export() is %d bytes, want 64", len(keys))
	}
	again := must(ParseIdentity(keys))
	if again.PublicKeys() != id.PublicKeys() {
		t.Errorf("the exported keys parse to other public keys")
	}
	reg, reg2 := must(id.Registration()), must(again.Registration())
	if reg != reg2 {
		t.Errorf("the registration differs after export and import:\n%+v\n%+v", reg, reg2)
	}
	if err := reg.Verify(); err != nil {
		t.Errorf("Verify(own registration): %v", err)
	}
	if fp := id.Fingerprint(); fp != reg.PublicKeyFingerprint || len(fp) != 43 || strings.ContainsAny(fp, "+/=") {
		t.Errorf("Fingerprint() = %q, registration's %q: want 43 URL-safe characters, the same", fp, reg.PublicKeyFingerprint)
	}
	other := must(GenerateIdentity())
	if bytes.Equal(other.Export(), keys) || other.Fingerprint() == id.Fingerprint() {
		t.Error("two generated identities share keys")
	}
	if reg.RegistrationMethod != "CustomPin" {
		t.Errorf("registration method %q", reg.RegistrationMethod)
	}
}

// TestRegistrationSignatures checks each field against its definition,
// independently of Verify: SPKI keys, the fingerprint as the SHA-256 of the
// identity key's SPKI, the identity key signed by the signing key and the
// signing key signed by the identity key, each over the other's SPKI bytes.
func TestRegistrationSignatures(t *testing.T) {
	v := loadVectors(t)
	id := v.identity(t) // scalars 1 and 2: the same keys on every run
	reg := must(id.Registration())
	idSPKI, sgSPKI := b64(t, reg.PublicKey), b64(t, reg.SigningPublicKey)
	idPub, sgPub := must(parseP256("identity", v.IdentityPublic)), must(parseP256("signing", v.SigningPublic))
	if !must(parseP256("spki", reg.PublicKey)).Equal(idPub) || !must(parseP256("spki", reg.SigningPublicKey)).Equal(sgPub) || len(idSPKI) != 91 || len(sgSPKI) != 91 {
		t.Fatalf("the registration's keys are not the identity's in SPKI: %+v", reg)
	}
	sum := sha256.Sum256(idSPKI)
	if want := base64.RawURLEncoding.EncodeToString(sum[:]); reg.PublicKeyFingerprint != want {
		t.Errorf("fingerprint %s, want %s", reg.PublicKeyFingerprint, want)
	}
	if !verifyRaw(sgPub, b64(t, reg.IdentityPublicKeySignature), idSPKI) {
		t.Error("identityPublicKeySignature is not the signing key's signature over the identity key's SPKI")
	}
	if !verifyRaw(idPub, b64(t, reg.SigningPublicKeySignature), sgSPKI) {
		t.Error("signingPublicKeySignature is not the identity key's signature over the signing key's SPKI")
	}
}

func TestRegistrationVerify(t *testing.T) {
	reg := must(must(GenerateIdentity()).Registration())
	stranger := must(must(GenerateIdentity()).Registration())
	raw := func(spki string) string { // the same key, uncompressed
		pub := must(parseP256("key", spki))
		return base64.StdEncoding.EncodeToString(must(pub.Bytes()))
	}
	tests := []struct {
		name string
		edit func(r *Registration)
		want error
	}{
		{"valid", func(*Registration) {}, nil},
		{"no optional fields", func(r *Registration) { r.SigningPublicKeySignature, r.PublicKeyFingerprint = "", "" }, nil},
		{"another identity key", func(r *Registration) { r.PublicKey = stranger.PublicKey }, ErrBadSignature},
		{"another signing key", func(r *Registration) { r.SigningPublicKey = stranger.SigningPublicKey }, ErrBadSignature},
		{"keys swapped", func(r *Registration) { r.PublicKey, r.SigningPublicKey = r.SigningPublicKey, r.PublicKey }, ErrBadSignature},
		{"signatures swapped", func(r *Registration) {
			r.IdentityPublicKeySignature, r.SigningPublicKeySignature = r.SigningPublicKeySignature, r.IdentityPublicKeySignature
		}, ErrBadSignature},
		{"signature of the other key", func(r *Registration) { r.SigningPublicKeySignature = stranger.SigningPublicKeySignature }, ErrBadSignature},
		{"no binding signature", func(r *Registration) { r.IdentityPublicKeySignature = "" }, ErrBadSignature},
		{"identity key uncompressed (signed as SPKI)", func(r *Registration) { r.PublicKey = raw(r.PublicKey) }, ErrBadSignature},
		{"another fingerprint", func(r *Registration) { r.PublicKeyFingerprint = stranger.PublicKeyFingerprint }, ErrMalformed},
		{"identity key not base64", func(r *Registration) { r.PublicKey = "%%%" }, ErrMalformed},
		{"signing key not P-256", func(r *Registration) { r.SigningPublicKey = base64.StdEncoding.EncodeToString([]byte("nope")) }, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reg
			tt.edit(&r)
			err := r.Verify()
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Verify() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPublicKeyFingerprint(t *testing.T) {
	id := must(GenerateIdentity())
	reg := must(id.Registration())
	for _, key := range []string{reg.PublicKey, id.PublicKeys().Identity} {
		if fp, err := PublicKeyFingerprint(key); err != nil || fp != id.Fingerprint() {
			t.Errorf("PublicKeyFingerprint(%s) = %q, %v; want %q", key, fp, err, id.Fingerprint())
		}
	}
	if _, err := PublicKeyFingerprint("bm9wZQ=="); !errors.Is(err, ErrMalformed) {
		t.Errorf("PublicKeyFingerprint(junk) = %v", err)
	}
}

func TestGeneratedKeysStayOutOfOutput(t *testing.T) {
	id := must(GenerateIdentity())
	id.UserID, id.KeyVersion = "1111", "7"
	keys := id.Export()
	reg := must(json.Marshal(must(id.Registration())))
	formatted := fmt.Sprintf("%v %+v %#v %s", id, id, *id, id)
	out := strings.Join([]string{string(reg), id.Fingerprint(), formatted}, " ")
	for _, secret := range [][]byte{keys[:32], keys[32:]} {
		for _, enc := range []string{hex.EncodeToString(secret), base64.StdEncoding.EncodeToString(secret)[:20], base64.RawURLEncoding.EncodeToString(secret)[:20]} {
			if strings.Contains(strings.ToLower(out), strings.ToLower(enc)) {
				t.Errorf("output shows private key material: %s", out)
			}
		}
	}
	if !strings.Contains(formatted, "[REDACTED]") {
		t.Errorf("formatted identity: %s", formatted)
	}
	clear(keys)
	if !slices.Equal(keys, make([]byte, 64)) || slices.Equal(id.Export(), keys) {
		t.Error("clearing the export touched the identity, or failed")
	}
}

func TestZeroIdentityRegistration(t *testing.T) {
	var id Identity
	if id.Export() != nil || id.Fingerprint() != "" {
		t.Error("an identity without keys exports keys or a fingerprint")
	}
	if _, err := id.Registration(); err == nil {
		t.Error("Registration() of an identity without keys succeeded")
	}
}
