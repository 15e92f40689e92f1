package xwebhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// SignatureHeader is the header in which X signs every webhook POST.
const SignatureHeader = "x-twitter-webhooks-signature"

const signaturePrefix = "sha256="

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("webhook signature header is missing")
	ErrBadSignature = errors.New("webhook signature does not match")
	ErrNoSecret     = errors.New("webhook consumer secret is not configured")
)

// CRCResponse is the response_token that answers X's challenge-response check:
// "sha256=" + base64(HMAC-SHA256(key=consumer secret, crc_token)).
func CRCResponse(consumerSecret []byte, crcToken string) string {
	return signaturePrefix + base64.StdEncoding.EncodeToString(mac(consumerSecret, []byte(crcToken)))
}

// Sign is the value X puts in the x-twitter-webhooks-signature header of a POST
// with this body. Tests and the local replay tool use it to sign deliveries.
func Sign(consumerSecret, body []byte) string {
	return signaturePrefix + base64.StdEncoding.EncodeToString(mac(consumerSecret, body))
}

// Verify checks header, the value of x-twitter-webhooks-signature, against the raw
// body in constant time. It returns ErrNoSignature for an empty header and an
// error wrapping ErrBadSignature for any other mismatch.
func Verify(consumerSecret, body []byte, header string) error {
	if len(consumerSecret) == 0 {
		return ErrNoSecret
	}
	return verify(hmac.New(sha256.New, consumerSecret), body, header)
}

// verify is Verify with the HMAC of the consumer secret given (reset here), so
// that a handler can reuse it (macPool).
func verify(m hash.Hash, body []byte, header string) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrNoSignature
	}
	if len(header) < len(signaturePrefix) || !strings.EqualFold(header[:len(signaturePrefix)], signaturePrefix) {
		return fmt.Errorf("%w: header does not start with %q", ErrBadSignature, signaturePrefix)
	}
	encoded := header[len(signaturePrefix):]
	// A signature is 44 characters of base64 for 32 bytes: decoded on the stack.
	var src [64]byte
	var got, want [sha256.Size + 2]byte
	if len(encoded) > len(src) || base64.StdEncoding.DecodedLen(len(encoded)) > len(got) {
		return ErrBadSignature
	}
	n, err := base64.StdEncoding.Decode(got[:], src[:copy(src[:], encoded)])
	if err != nil {
		return fmt.Errorf("%w: signature is not base64", ErrBadSignature)
	}
	m.Reset()
	m.Write(body)
	if n != sha256.Size || !hmac.Equal(got[:n], m.Sum(want[:0])) {
		return ErrBadSignature
	}
	return nil
}

// macPool keeps the HMACs of one consumer secret for reuse: a new one costs
// five allocations, a delivery's verification none.
type macPool struct {
	pool sync.Pool
}

// verify is Verify with a pooled HMAC of secret (which must not change between
// calls).
func (p *macPool) verify(secret, body []byte, header string) error {
	if len(secret) == 0 {
		return ErrNoSecret
	}
	m, _ := p.pool.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, secret)
	}
	defer p.pool.Put(m)
	return verify(m, body, header)
}

func mac(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}
