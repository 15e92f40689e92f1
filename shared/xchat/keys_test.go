package xchat

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// TestNoKeysInOutput checks that formatting an identity or conversation keys,
// and the errors of failed operations, never show key material.
func TestNoKeysInOutput(t *testing.T) {
	v := loadVectors(t)
	id := otherIdentity(t, "1111")
	secret := bytes.Repeat([]byte{0x11}, 32)
	convKey := bytes.Repeat([]byte{0x5a}, 32)
	keys := ConversationKeys{"1001": convKey}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		out = append(out, fmt.Sprintf(verb, id), fmt.Sprintf(verb, *id), fmt.Sprintf(verb, keys))
	}
	ev := parse(t, v.EventKeyChange)
	signKeyChangeEvent(t, v.identity(t), ev, convKey)
	_, err := v.identity(t).ConversationKeys(reparse(t, ev), v.signers(t))
	out = append(out, err.Error())
	_, err = ParseIdentity(append(bytes.Repeat([]byte{0xff}, 32), secret...))
	out = append(out, err.Error())
	_, err = NewIdentity(secret, make([]byte, 32))
	out = append(out, err.Error())
	forbidden := []string{
		hex.EncodeToString(secret), base64.StdEncoding.EncodeToString(secret)[:20],
		hex.EncodeToString(convKey), base64.RawStdEncoding.EncodeToString(convKey)[:20],
		base64.RawStdEncoding.EncodeToString(b64(t, v.ConversationKey))[:20],
		"77194726158210796949047323339", // leading digits of the scalar 0x1111…11
	}
	for _, o := range out {
		for _, f := range forbidden {
			if strings.Contains(strings.ToLower(o), strings.ToLower(f)) {
				t.Errorf("output %q shows key material", o)
			}
		}
	}
	if !strings.Contains(out[0], "[REDACTED]") || !strings.Contains(out[2], "1001") {
		t.Errorf("formatted forms: %q, %q", out[0], out[2])
	}
	keys.Zero()
	if len(keys) != 0 || !bytes.Equal(convKey, make([]byte, 32)) {
		t.Errorf("Zero left %v, key %x", keys, convKey)
	}
}

// TestZeroIdentity checks that an Identity made without keys fails cleanly.
func TestZeroIdentity(t *testing.T) {
	v := loadVectors(t)
	var id Identity
	if (id.PublicKeys() != PublicKeys{}) {
		t.Error("zero identity has public keys")
	}
	if _, err := id.SigningKey(); err == nil {
		t.Error("SigningKey: no error")
	}
	if _, err := id.ConversationKeys(parse(t, v.EventKeyChange), v.signers(t)); err == nil {
		t.Error("ConversationKeys: no error")
	}
	if _, err := id.EncryptMessage("2222", b64(t, v.ConversationKey), "1", "hi"); err == nil {
		t.Error("EncryptMessage: no error")
	}
}

func TestParseIdentityErrors(t *testing.T) {
	order := "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551" // P-256 group order
	valid := strings.Repeat("11", 32)
	tests := []string{
		"",                               // empty
		valid,                            // identity key only
		valid + valid + "00",             // too long
		strings.Repeat("00", 32) + valid, // zero scalar
		order + valid,                    // scalar not below the order
		valid + order,
	}
	for _, h := range tests {
		if id, err := ParseIdentity(hexBytes(t, h)); err == nil || id != nil {
			t.Errorf("ParseIdentity(%s…) = %v, %v; want an error", h[:min(len(h), 8)], id, err)
		}
	}
	if _, err := ParseIdentityBase64("%%%"); err == nil {
		t.Error("ParseIdentityBase64(not base64): no error")
	}
}

func hexBytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
