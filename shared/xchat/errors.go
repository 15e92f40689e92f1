package xchat

import (
	"errors"
	"fmt"
)

// The errors this package returns wrap one of these; test with errors.Is.
var (
	// ErrMalformed reports input that is not a well-formed event or payload:
	// bad base64, truncated or invalid Thrift, missing required fields.
	ErrMalformed = errors.New("xchat: malformed input")

	// ErrUnsupported reports an event this package does not handle: a
	// signature version other than 7, an unencrypted message, or an event
	// of another kind than the operation needs.
	ErrUnsupported = errors.New("xchat: unsupported event")

	// ErrNoKey reports that no usable conversation key was found: none of
	// the message's key version, or no participant key for this identity.
	ErrNoKey = errors.New("xchat: no conversation key")

	// ErrUnverified reports that no signing key is known for the event's
	// sender and signing-key version, so its signature cannot be checked.
	// Fetch the sender's public keys and try again.
	ErrUnverified = errors.New("xchat: no signing key for sender")

	// ErrBadSignature reports a missing or invalid signature, or one made
	// by another key than the sender's registered one.
	ErrBadSignature = errors.New("xchat: bad signature")

	// ErrTampered reports ciphertext that fails authentication under the
	// conversation key.
	ErrTampered = errors.New("xchat: ciphertext failed authentication")
)

// malformed wraps ErrMalformed around a description and, optionally, a cause.
func malformed(what string, cause error) error {
	if cause == nil {
		return fmt.Errorf("%w: %s", ErrMalformed, what)
	}
	return fmt.Errorf("%w: %s: %w", ErrMalformed, what, cause)
}
