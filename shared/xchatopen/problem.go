package xchatopen

import (
	"errors"
	"fmt"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/xchat"
)

// transient returns err when it is worth retrying: not an ErrNoSigner.
func transient(err error) error {
	if err == nil || errors.Is(err, ErrNoSigner) {
		return nil
	}
	return err
}

// problemOf says, for the console and the decision, why an event did not
// open: from what failed, never from the keys or the ciphertext.
func problemOf(err error, ev *xchat.Event) string {
	unverified := care.XChatUnverifiedPrefix + ": "
	switch {
	case errors.Is(err, ErrNoSigner):
		return unverified + fmt.Sprintf("the signing keys of user %s could not be had from X", ev.SenderID)
	case errors.Is(err, xchat.ErrUnverified):
		return unverified + fmt.Sprintf("user %s has registered no signing key of version %q with X", ev.SenderID, ev.SigningKeyVersion)
	case errors.Is(err, xchat.ErrBadSignature):
		return unverified + fmt.Sprintf("the signature is missing, or not that of the signing key user %s registered with X", ev.SenderID)
	case errors.Is(err, xchat.ErrNoKey):
		return fmt.Sprintf("Pajarito holds no conversation key of version %q for this conversation", ev.KeyVersion)
	case errors.Is(err, xchat.ErrTampered):
		return "the ciphertext fails authentication under the conversation key"
	case errors.Is(err, xchat.ErrUnsupported):
		return "an X Chat event Pajarito does not open (unencrypted, or another signature version than 7)"
	case errors.Is(err, xchat.ErrMalformed):
		return "the X Chat event is malformed"
	case err != nil:
		return "the X Chat event did not open"
	}
	return ""
}
