package store

import (
	"bytes"
	"testing"
)

// TestConversationKeys: a conversation's sealed keys are kept by version, each
// written once: a second key under a kept version does not replace it.
func TestConversationKeys(t *testing.T) {
	s, _ := newStore(t)
	const conv = brandID + ":" + customer
	tests := []struct {
		name    string
		k       ConversationKey
		wrote   bool
		wantErr bool
	}{
		{"first version", ConversationKey{ConversationID: conv, KeyVersion: "1", Sealed: []byte("sealed-1"), Sealer: "local", CreatedAt: t0}, true, false},
		{"second version", ConversationKey{ConversationID: conv, KeyVersion: "2", Sealed: []byte("sealed-2"), Sealer: "local", CreatedAt: t0}, true, false},
		{"a kept version again", ConversationKey{ConversationID: conv, KeyVersion: "1", Sealed: []byte("forged"), Sealer: "local", CreatedAt: t0}, false, false},
		{"another conversation", ConversationKey{ConversationID: brandID + ":" + other, KeyVersion: "1", Sealed: []byte("other"), Sealer: "local", CreatedAt: t0}, true, false},
		{"no sealed bytes", ConversationKey{ConversationID: conv, KeyVersion: "3", Sealer: "local"}, false, true},
		{"no sealer", ConversationKey{ConversationID: conv, KeyVersion: "3", Sealed: []byte("x")}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wrote, err := s.PutConversationKey(t.Context(), tt.k)
			if wrote != tt.wrote || (err != nil) != tt.wantErr {
				t.Errorf("PutConversationKey = %v, %v; want %v, error %v", wrote, err, tt.wrote, tt.wantErr)
			}
		})
	}
	keys, err := s.ConversationKeys(t.Context(), conv)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].KeyVersion != "1" || !bytes.Equal(keys[0].Sealed, []byte("sealed-1")) ||
		keys[1].KeyVersion != "2" || keys[1].Sealer != "local" || !keys[1].CreatedAt.Equal(t0) || keys[1].ConversationID != conv {
		t.Errorf("keys = %+v", keys)
	}
	if none, err := s.ConversationKeys(t.Context(), "1:2"); err != nil || len(none) != 0 {
		t.Errorf("keys of an unknown conversation = %+v, %v", none, err)
	}
}
