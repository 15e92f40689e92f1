// Package xchat decrypts and verifies X Chat events, X's end-to-end encrypted
// direct messages, and encrypts the brand's replies, in pure Go.
//
// The scheme is the one X's Chat SDK implements and documents in
// docs/CRYPTO.md of github.com/xdevplatform/chat-xdk:
//
//   - Every account holds two P-256 key pairs: an identity key for ECDH and a
//     signing key for ECDSA. The SDK exports the private halves as one blob,
//     the identity scalar followed by the signing scalar (32 bytes each);
//     public keys travel as base64 of the uncompressed point (65 bytes) or of
//     its SPKI encoding (91 bytes).
//   - A conversation has a symmetric conversation key (32 bytes) per key
//     version. A key-change event carries it encrypted to every participant
//     with ECIES: an ephemeral P-256 ECDH, an X9.63 KDF over SHA-256 (the
//     ephemeral public key as shared info) giving an AES-128 key and a
//     16-byte nonce, and AES-128-GCM. The output is the ephemeral point,
//     the ciphertext and the tag.
//   - A message's contents, a Thrift MessageEntryHolder, are sealed with
//     XSalsa20-Poly1305 (NaCl secretbox) under the conversation key, as
//     nonce (24 bytes), tag (16 bytes) and ciphertext.
//   - Events are signed with ECDSA P-256 over SHA-256, as raw r||s
//     (64 bytes), over a comma-separated payload of the event's type,
//     message id, sender id, conversation id and type-specific fields; a
//     message signs its conversation key version and its ciphertext, a key
//     change its key version and the plaintext conversation key. This
//     package accepts signature version 7, the version the SDK stamps.
//   - Events are Thrift structs (MessageEvent) in the binary protocol,
//     base64-encoded on the wire.
//
// X's protocol has no forward secrecy: conversation keys are long-lived and
// are encrypted to long-term identity keys, so whoever obtains the brand's
// identity private key can decrypt every conversation key ever sent to it,
// and with them every past and future message of those conversations. Keep
// the exported private keys in a secret store, never in logs or errors
// (this package keeps them out of both), and rotate them if exposed.
//
// An account's keys are made with [GenerateIdentity]. [Identity.Export]
// returns the private keys in the SDK's exported form, for a secret store;
// [Identity.Registration] returns what X registers (POST
// /2/users/{id}/public_keys), as the SDK's generateKeypairs does: both public
// keys in SPKI, the signing key's signature over the identity key's SPKI and
// the identity key's over the signing key's, and the identity key's
// fingerprint ([Identity.Fingerprint]: the SHA-256 of its SPKI in unpadded
// URL-safe base64), which people compare out of band. [Registration.Verify]
// checks a registration.
//
// A receiver parses an event with [ParseEvent] or [ParseEventBase64]. A key
// change yields its conversation key through [Identity.ConversationKeys]; a
// message is verified against its sender's registered signing key and then
// decrypted by [Decrypt]. Failures are reported through errors that callers
// test with [errors.Is]: [ErrMalformed], [ErrUnsupported], [ErrNoKey],
// [ErrUnverified], [ErrBadSignature] and [ErrTampered]. A sender encrypts
// with [Identity.EncryptMessage].
package xchat
