package xchatopen_test

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/pajarito-care/pajarito/shared/xchatopen"
)

// fakeKMS seals by remembering the plaintext under its context; Decrypt
// fails with err when set.
type fakeKMS struct {
	sealed map[string]sealedEntry
	err    error
}

type sealedEntry struct {
	pt  []byte
	ec  map[string]string
	key string
}

func (k *fakeKMS) Encrypt(_ context.Context, in *kms.EncryptInput, _ ...func(*kms.Options)) (*kms.EncryptOutput, error) {
	blob := []byte{byte('a' + len(k.sealed))}
	k.sealed[string(blob)] = sealedEntry{pt: in.Plaintext, ec: in.EncryptionContext, key: aws.ToString(in.KeyId)}
	return &kms.EncryptOutput{CiphertextBlob: blob}, nil
}

func (k *fakeKMS) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	if k.err != nil {
		return nil, k.err
	}
	e, ok := k.sealed[string(in.CiphertextBlob)]
	if !ok || !maps.Equal(e.ec, in.EncryptionContext) || e.key != aws.ToString(in.KeyId) {
		return nil, &kmstypes.InvalidCiphertextException{Message: aws.String("no")}
	}
	return &kms.DecryptOutput{Plaintext: e.pt}, nil
}

// TestKMS: the KMS sealer seals under the key with the context as the
// encryption context; KMS's refusal of the ciphertext is ErrUnsealable, KMS
// unreachable is not.
func TestKMS(t *testing.T) {
	fake := &fakeKMS{sealed: map[string]sealedEntry{}}
	s := &xchatopen.KMS{Client: fake, KeyID: "alias/pajarito-xchat"}
	ec := map[string]string{"conversation_id": "1:2", "key_version": "7"}
	sealed, err := s.Seal(t.Context(), []byte("key"), ec)
	if err != nil || s.String() != "kms:alias/pajarito-xchat" {
		t.Fatal(err, s)
	}
	unreachable := errors.New("KMS unreachable")
	tests := []struct {
		name        string
		ec          map[string]string
		kmsErr      error
		want        string
		unsealable  bool
		unreachable bool
	}{
		{"same context", ec, nil, "key", false, false},
		{"another context", map[string]string{"conversation_id": "1:2", "key_version": "8"}, nil, "", true, false},
		{"another key", ec, &kmstypes.IncorrectKeyException{Message: aws.String("no")}, "", true, false},
		{"KMS unreachable", ec, unreachable, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.err = tt.kmsErr
			pt, err := s.Open(t.Context(), sealed, tt.ec)
			if string(pt) != tt.want || errors.Is(err, xchatopen.ErrUnsealable) != tt.unsealable || errors.Is(err, unreachable) != tt.unreachable {
				t.Errorf("Open = %q, %v", pt, err)
			}
		})
	}
}
