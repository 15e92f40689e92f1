// Package localseal is the local system's stand-in for KMS: it seals secrets
// at rest (X Chat conversation keys) with AES-256-GCM under a key kept in a
// file of the data folder, readable by its owner only. The sealing context is
// the additional data, so that what was sealed under one context does not
// open under another. It implements xchatopen.Sealer.
package localseal

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/pajarito-care/pajarito/shared/xchatopen"
)

// KeyFile is the name of the key file in the data folder.
const KeyFile = "seal.key"

// Sealer seals with AES-256-GCM: a random 12-byte nonce, then the ciphertext
// and tag.
type Sealer struct {
	aead cipher.AEAD
	path string
}

// Open returns the sealer of the key file in dir, making the key (32 random
// bytes, mode 0600) if the file does not exist.
func Open(dir string) (*Sealer, error) {
	path := filepath.Join(dir, KeyFile)
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key, err = create(path)
	}
	if err != nil {
		return nil, fmt.Errorf("localseal: %w", err)
	}
	defer clear(key)
	if len(key) != 32 {
		return nil, fmt.Errorf("localseal: %s holds %d bytes, want 32", path, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("localseal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("localseal: %w", err)
	}
	return &Sealer{aead: aead, path: path}, nil
}

// create writes a new random key to path, mode 0600, unless the file exists.
func create(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		clear(key)
		return os.ReadFile(path) // another process made it first
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

// String names the sealer, as kept with what it sealed.
func (s *Sealer) String() string { return "local:" + s.path }

// Seal encrypts plaintext with the context as additional data.
func (s *Sealer) Seal(_ context.Context, plaintext []byte, ctx map[string]string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plaintext, additional(ctx)), nil
}

// Open decrypts what Seal sealed under the same context; its errors wrap
// xchatopen.ErrUnsealable.
func (s *Sealer) Open(_ context.Context, sealed []byte, ctx map[string]string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, fmt.Errorf("%w: %d bytes, shorter than nonce and tag", xchatopen.ErrUnsealable, len(sealed))
	}
	pt, err := s.aead.Open(nil, sealed[:n], sealed[n:], additional(ctx))
	if err != nil {
		return nil, fmt.Errorf("%w: another key, another context or altered bytes", xchatopen.ErrUnsealable)
	}
	return pt, nil
}

// additional encodes a context unambiguously: its keys sorted, each key and
// value length-prefixed.
func additional(ctx map[string]string) []byte {
	var b []byte
	for _, k := range slices.Sorted(maps.Keys(ctx)) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(k)))
		b = append(b, k...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(ctx[k])))
		b = append(b, ctx[k]...)
	}
	return b
}
