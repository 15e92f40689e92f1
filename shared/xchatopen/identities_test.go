package xchatopen_test

import (
	"encoding/base64"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/pajarito-care/pajarito/shared/xchat"
	"github.com/pajarito-care/pajarito/shared/xchatopen"
)

func TestIdentities(t *testing.T) {
	keys := func() string {
		id, err := xchat.GenerateIdentity()
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(id.Export())
	}
	current, old := keys(), keys()
	tests := []struct {
		name     string
		fields   map[string]string
		versions []string
		wantErr  string
	}{
		{"none", map[string]string{"oauth2_access_token": "x"}, nil, ""},
		{"current", map[string]string{"xchat_private_keys": current, "xchat_key_version": "20"}, []string{"20"}, ""},
		{"current and rotated out", map[string]string{"xchat_private_keys": current, "xchat_key_version": "20", "xchat_private_keys_10": old}, []string{"10", "20"}, ""},
		{"no version", map[string]string{"xchat_private_keys": current}, nil, "xchat_private_keys has no key version"},
		{"not keys", map[string]string{"xchat_private_keys": "bm90IGtleXM=", "xchat_key_version": "20"}, nil, "xchat_private_keys: xchat: private keys are 8 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, err := xchatopen.Identities(tt.fields, "1590000000000000001")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), current) {
					t.Errorf("Identities = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(slices.Sorted(maps.Keys(ids)), tt.versions) {
				t.Fatalf("Identities = %v, %v; want versions %v", ids, err, tt.versions)
			}
			for v, id := range ids {
				if id.UserID != "1590000000000000001" || id.KeyVersion != v {
					t.Errorf("identity %v under version %s", id, v)
				}
			}
		})
	}
}
