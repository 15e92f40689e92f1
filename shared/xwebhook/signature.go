package xwebhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
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
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrNoSignature
	}
	if len(header) < len(signaturePrefix) || !strings.EqualFold(header[:len(signaturePrefix)], signaturePrefix) {
		return fmt.Errorf("%w: header does not start with %q", ErrBadSignature, signaturePrefix)
	}
	got, err := base64.StdEncoding.DecodeString(header[len(signaturePrefix):])
	if err != nil {
		return fmt.Errorf("%w: signature is not base64", ErrBadSignature)
	}
	if !hmac.Equal(got, mac(consumerSecret, body)) {
		return ErrBadSignature
	}
	return nil
}

func mac(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}
