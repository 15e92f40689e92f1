package xchatopen

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xchat"
)

// A Sealer encrypts secrets at rest: KMS on AWS (KMS), a key file in the local
// system (package localseal). The context is bound to the sealed bytes (KMS's
// encryption context, AES-GCM's additional data): what was sealed under one
// context does not open under another.
type Sealer interface {
	Seal(ctx context.Context, plaintext []byte, context map[string]string) ([]byte, error)
	Open(ctx context.Context, sealed []byte, context map[string]string) ([]byte, error)
}

// ErrUnsealable is wrapped by a Sealer's Open when the sealed bytes do not
// open, for good (another key, another context, altered bytes), as opposed to
// a sealer that could not be reached, which is worth retrying.
var ErrUnsealable = errors.New("xchatopen: sealed bytes do not open")

// KMSAPI is the part of the KMS client KMS uses (*kms.Client implements it).
type KMSAPI interface {
	Encrypt(ctx context.Context, in *kms.EncryptInput, opts ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// KMS seals with a KMS symmetric key (Encrypt and Decrypt), the context as
// the encryption context, which CloudTrail records with each use.
type KMS struct {
	Client KMSAPI
	// KeyID is the key's id, ARN or alias.
	KeyID string
}

// Seal encrypts plaintext under the key.
func (k *KMS) Seal(ctx context.Context, plaintext []byte, ec map[string]string) ([]byte, error) {
	out, err := k.Client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(k.KeyID), Plaintext: plaintext, EncryptionContext: ec})
	if err != nil {
		return nil, fmt.Errorf("xchatopen: KMS encrypt: %w", err)
	}
	return out.CiphertextBlob, nil
}

// Open decrypts what Seal sealed under the same context. Errors wrap
// ErrUnsealable when KMS refuses the ciphertext for good.
func (k *KMS) Open(ctx context.Context, sealed []byte, ec map[string]string) ([]byte, error) {
	out, err := k.Client.Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(k.KeyID), CiphertextBlob: sealed, EncryptionContext: ec})
	var invalid *kmstypes.InvalidCiphertextException
	var incorrect *kmstypes.IncorrectKeyException
	switch {
	case errors.As(err, &invalid) || errors.As(err, &incorrect):
		return nil, fmt.Errorf("%w: KMS decrypt: %w", ErrUnsealable, err)
	case err != nil:
		return nil, fmt.Errorf("xchatopen: KMS decrypt: %w", err)
	}
	return out.Plaintext, nil
}

// String names the sealer, as kept with what it sealed.
func (k *KMS) String() string { return "kms:" + k.KeyID }

// ConversationKeyStore keeps X Chat conversation keys.
type ConversationKeyStore interface {
	// Keys returns the keys kept for a conversation.
	Keys(ctx context.Context, conversationID string) (xchat.ConversationKeys, error)
	// Put keeps keys of a conversation; a version kept already stays as it is.
	Put(ctx context.Context, conversationID string, keys xchat.ConversationKeys) error
}

// KeyItems is where SealedKeys keeps the sealed keys (*store.Store).
type KeyItems interface {
	PutConversationKey(ctx context.Context, k store.ConversationKey) (bool, error)
	ConversationKeys(ctx context.Context, conversationID string) ([]store.ConversationKey, error)
}

// SealedKeys is a ConversationKeyStore that keeps each key sealed, with the
// conversation id and the key version as the sealing context, so that a
// sealed key moved to another conversation or version does not open.
type SealedKeys struct {
	Items  KeyItems
	Sealer Sealer
	// SealerID names the sealer in the items (KMS.String, say).
	SealerID string
	// Now is the clock; nil is the wall's.
	Now func() time.Time
}

// SealPurpose is the sealing context's purpose of conversation keys: the
// stack lets the functions use the KMS key with this encryption context only.
const SealPurpose = "xchat-conversation-key"

func sealContext(conversationID, version string) map[string]string {
	return map[string]string{"purpose": SealPurpose, "conversation_id": conversationID, "key_version": version}
}

// Put seals and keeps each key.
func (s *SealedKeys) Put(ctx context.Context, conversationID string, keys xchat.ConversationKeys) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	for version, key := range keys {
		sealed, err := s.Sealer.Seal(ctx, key, sealContext(conversationID, version))
		if err != nil {
			return fmt.Errorf("xchatopen: seal the conversation key of %s version %s: %w", conversationID, version, err)
		}
		k := store.ConversationKey{ConversationID: conversationID, KeyVersion: version, Sealed: sealed, Sealer: s.SealerID, CreatedAt: now().UTC()}
		if _, err := s.Items.PutConversationKey(ctx, k); err != nil {
			return fmt.Errorf("xchatopen: keep the conversation key: %w", err)
		}
	}
	return nil
}

// Keys opens the conversation's kept keys. A key that does not open for good
// (ErrUnsealable) is left out, as if not kept; other failures are errors.
func (s *SealedKeys) Keys(ctx context.Context, conversationID string) (xchat.ConversationKeys, error) {
	items, err := s.Items.ConversationKeys(ctx, conversationID)
	if err != nil {
		return nil, fmt.Errorf("xchatopen: read the conversation keys: %w", err)
	}
	keys := xchat.ConversationKeys{}
	for _, it := range items {
		key, err := s.Sealer.Open(ctx, it.Sealed, sealContext(conversationID, it.KeyVersion))
		switch {
		case errors.Is(err, ErrUnsealable):
			continue
		case err != nil:
			keys.Zero()
			return nil, fmt.Errorf("xchatopen: open the conversation key of %s version %s: %w", conversationID, it.KeyVersion, err)
		}
		keys[it.KeyVersion] = key
	}
	return keys, nil
}
