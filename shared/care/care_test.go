package care

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func validMessage() Message {
	return Message{
		Channel: Public, Direction: Inbound, ID: "1862954300111222333", AuthorID: "42",
		Text: "hola", CreatedAt: time.Date(2026, 8, 18, 16, 5, 18, 0, time.UTC),
	}
}

func TestMessageValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Message)
		wantErr string
	}{
		{name: "valid", edit: func(*Message) {}},
		{name: "bad channel", edit: func(m *Message) { m.Channel = "email" }, wantErr: "channel"},
		{name: "bad direction", edit: func(m *Message) { m.Direction = "sideways" }, wantErr: "direction"},
		{name: "id with letters", edit: func(m *Message) { m.ID = "12a" }, wantErr: "not a decimal X id"},
		{name: "id too long", edit: func(m *Message) { m.ID = strings.Repeat("9", 21) }, wantErr: "not a decimal X id"},
		{name: "float-rounded id", edit: func(m *Message) { m.ID = "1.8629543001112223e+18" }, wantErr: "not a decimal X id"},
		{name: "no author", edit: func(m *Message) { m.AuthorID = "" }, wantErr: "author id"},
		{name: "no time", edit: func(m *Message) { m.CreatedAt = time.Time{} }, wantErr: "created time"},
		{name: "DM without recipient", edit: func(m *Message) { m.Channel = DM }, wantErr: "recipient"},
		{name: "DM with recipient", edit: func(m *Message) { m.Channel = DM; m.RecipientID = "7" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validMessage()
			tt.edit(&m)
			err := m.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want an error about %q", err, tt.wantErr)
			}
		})
	}
}

func TestCustomerAndThreadKey(t *testing.T) {
	in := validMessage()
	outReply := validMessage()
	outReply.Direction, outReply.AuthorID, outReply.InReplyToUserID = Outbound, "1590000000000000001", "42"
	dmIn := validMessage()
	dmIn.Channel, dmIn.RecipientID = DM, "1590000000000000001"
	dmOut := validMessage()
	dmOut.Channel, dmOut.Direction, dmOut.AuthorID, dmOut.RecipientID = DM, Outbound, "1590000000000000001", "42"
	update := outReply // the brand answering its own reply to 42, mentioning them
	update.InReplyToUserID, update.MentionedIDs = "1590000000000000001", []string{"1590000000000000001", "42", "77"}
	ownThread := update
	ownThread.MentionedIDs = []string{"1590000000000000001"}
	tests := []struct {
		name     string
		m        Message
		customer string
		thread   string
	}{
		{"inbound post", in, "42", "public#C1#42"},
		{"outbound reply", outReply, "42", "public#C1#42"},
		{"inbound DM", dmIn, "42", "dm#42"},
		{"outbound DM", dmOut, "42", "dm#42"},
		{"the brand's update in a customer's thread", update, "42", "public#C1#42"},
		{"the brand's own thread", ownThread, "", "public#C1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Customer(); got != tt.customer {
				t.Errorf("Customer() = %q, want %q", got, tt.customer)
			}
			if got := ThreadKey(&tt.m, "C1"); got != tt.thread {
				t.Errorf("ThreadKey() = %q, want %q", got, tt.thread)
			}
		})
	}
}

func TestEnvelope(t *testing.T) {
	m := validMessage()
	tests := []struct {
		name    string
		env     Envelope
		key     string
		wantErr string
	}{
		{name: "message", env: Envelope{Version: EnvelopeVersion, Kind: KindMessage, Message: &m}, key: "public#1862954300111222333"},
		{name: "newer version refused", env: Envelope{Version: EnvelopeVersion + 1, Kind: KindMessage, Message: &m}, key: "public#1862954300111222333", wantErr: "not supported"},
		{name: "message missing", env: Envelope{Version: EnvelopeVersion, Kind: KindMessage}, wantErr: "no message"},
		{name: "deletion", env: Envelope{Version: EnvelopeVersion, Kind: KindDeletion, Deletion: &Deletion{Channel: Public, ID: "5"}}, key: "del#public#5"},
		{name: "deletion bad id", env: Envelope{Version: EnvelopeVersion, Kind: KindDeletion, Deletion: &Deletion{ID: "x"}}, key: "del##x", wantErr: "no valid deletion"},
		{name: "revocation", env: Envelope{Version: EnvelopeVersion, Kind: KindRevocation, Revocation: &Revocation{UserID: "1"}}},
		{name: "unparsed always invalid", env: Envelope{Version: EnvelopeVersion, Kind: KindUnparsed, Problem: "bad json"}, wantErr: "bad json"},
		{name: "unknown kind", env: Envelope{Version: EnvelopeVersion, Kind: "poll"}, wantErr: "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.env.DedupeKey(); got != tt.key {
				t.Errorf("DedupeKey() = %q, want %q", got, tt.key)
			}
			err := tt.env.Validate()
			if (err != nil) != (tt.wantErr != "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate() = %v, want error %q", err, tt.wantErr)
			}
		})
	}
}

func TestThreadConversation(t *testing.T) {
	tests := []struct{ key, want string }{
		{"public#1820000000000000001#42", "1820000000000000001"},
		{"public#1820000000000000001", "1820000000000000001"}, // a key without its customer
		{"dm#42", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ThreadConversation(tt.key); got != tt.want {
			t.Errorf("ThreadConversation(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

// TestXChatReplyMessageID: one reply, one UUID (version 8) on every attempt;
// another reply, another.
func TestXChatReplyMessageID(t *testing.T) {
	a, b := XChatReplyMessageID("c1#agent-7"), XChatReplyMessageID("c1#agent-8")
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if !uuid.MatchString(a) || a != XChatReplyMessageID("c1#agent-7") || a == b {
		t.Errorf("XChatReplyMessageID = %q, %q; want a stable version-8 UUID per key", a, b)
	}
}
