package xchat

import (
	"bytes"
	"errors"
	"testing"
)

// TestNewKeyChange: a key change made in Go gives each participant the key,
// verified against the sender's signing key; altered, it gives none.
func TestNewKeyChange(t *testing.T) {
	brand, customer := otherIdentity(t, "1111"), otherIdentity(t, "2222")
	kc, err := brand.NewKeyChange("2222", "1790000000000", []Recipient{
		{UserID: customer.UserID, PublicKey: customer.PublicKeys().Identity, KeyVersion: customer.KeyVersion}})
	if err != nil {
		t.Fatal(err)
	}
	if kc.ConversationID != "1111:2222" || len(kc.Key) != keySize || len(kc.ParticipantKeys) != 2 || kc.PublicKeyVersion != brand.KeyVersion {
		t.Fatalf("key change %+v: want the one-to-one conversation, a 32-byte key, both participants", kc)
	}
	var signers SigningKeySet
	if err := signers.Add(must(brand.SigningKey())); err != nil {
		t.Fatal(err)
	}
	for _, id := range []*Identity{customer, brand} {
		keys, err := id.ConversationKeys(parse(t, frameKeyChangeOf(t, kc, brand.UserID)), &signers)
		if err != nil || !bytes.Equal(keys["1790000000000"], kc.Key) {
			t.Errorf("user %s opened the key change as %v, %v; want the key", id.UserID, keys, err)
		}
	}
	tests := []struct {
		name  string
		alter func(*KeyChange) string
		want  error
	}{
		{"another sender", func(kc *KeyChange) string { return frameKeyChangeOf(t, kc, "3333") }, ErrUnverified},
		{"another conversation", func(kc *KeyChange) string {
			kc.ConversationID = "2222:4444"
			return frameKeyChangeOf(t, kc, brand.UserID)
		}, ErrBadSignature},
		{"signed by another key", func(kc *KeyChange) string {
			kc.Signature = must(otherIdentity(t, "1111").NewKeyChange("2222", kc.KeyVersion, nil)).Signature
			return frameKeyChangeOf(t, kc, brand.UserID)
		}, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *kc
			_, err := customer.ConversationKeys(parse(t, tt.alter(&c)), &signers)
			if !errors.Is(err, tt.want) {
				t.Errorf("ConversationKeys = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := brand.NewKeyChange("2222", "1", []Recipient{{UserID: "2222", PublicKey: "bm90IGEga2V5", KeyVersion: "1"}}); err == nil {
		t.Error("NewKeyChange took a recipient whose public key is not a P-256 key")
	}
}
