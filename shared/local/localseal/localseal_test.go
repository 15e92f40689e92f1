package localseal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pajarito-care/pajarito/shared/xchatopen"
)

// TestSealer: what is sealed opens under the same context with the same key
// file, and under no other context, key or bytes; the key file is the
// owner's only.
func TestSealer(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Fatalf("key file %v, %v; want 32 bytes, mode 0600", fi, err)
	}
	ctx := map[string]string{"conversation_id": "1:2", "key_version": "7"}
	secret := []byte("conversation key, 32 bytes long!")
	sealed, err := s.Seal(t.Context(), secret, ctx)
	if err != nil || bytes.Contains(sealed, secret) {
		t.Fatalf("Seal = %x, %v", sealed, err)
	}
	again, err := Open(dir) // the same key file
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := again.Open(t.Context(), sealed, ctx); err != nil || !bytes.Equal(pt, secret) {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	other, _ := Open(t.TempDir())
	altered := bytes.Clone(sealed)
	altered[len(altered)-1] ^= 1
	tests := []struct {
		name   string
		s      *Sealer
		sealed []byte
		ctx    map[string]string
	}{
		{"another version", s, sealed, map[string]string{"conversation_id": "1:2", "key_version": "8"}},
		{"another conversation", s, sealed, map[string]string{"conversation_id": "1:3", "key_version": "7"}},
		{"keys and values shifted", s, sealed, map[string]string{"conversation_id": "1:2key_version", "": "7"}},
		{"no context", s, sealed, nil},
		{"another key", other, sealed, ctx},
		{"altered bytes", s, altered, ctx},
		{"truncated", s, sealed[:10], ctx},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if pt, err := tt.s.Open(t.Context(), tt.sealed, tt.ctx); !errors.Is(err, xchatopen.ErrUnsealable) || pt != nil {
				t.Errorf("Open = %q, %v; want ErrUnsealable", pt, err)
			}
		})
	}
}

func TestOpenBadKeyFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err == nil {
		t.Error("Open accepted a 5-byte key file")
	}
}
