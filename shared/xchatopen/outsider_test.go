package xchatopen

import (
	"testing"

	"github.com/pajarito-care/pajarito/shared/xchat"
)

func TestOutsider(t *testing.T) {
	tests := []struct {
		sender, conv string
		want         bool
	}{
		{"1111", "1111:2222", false},
		{"2222", "1111:2222", false},
		{"3333", "1111:2222", true},
		{"3333", "g1234567890", false}, // a group: X's to check
		{"3333", "", false},
	}
	for _, tt := range tests {
		if got := outsider(&xchat.Event{SenderID: tt.sender, ConversationID: tt.conv}); got != tt.want {
			t.Errorf("outsider(%s in %q) = %v, want %v", tt.sender, tt.conv, got, tt.want)
		}
	}
}
