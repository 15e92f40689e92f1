package xchatopen_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xchat"
	"github.com/pajarito-care/pajarito/shared/xchatopen"
)

// TestOpenLater: a message whose key change came earlier opens with the kept
// key; the sender's keys are fetched once per SignerTTL, and again at once
// when a message names a signing key version the cache does not hold.
func TestOpenLater(t *testing.T) {
	f := newFixture(t)
	steps := []struct {
		name      string
		prepare   func()
		encoded   string
		keyChange string
		text      string
		calls     int
	}{
		{"the key change, fetching the sender's keys", nil, f.v.KeyChange, "", "", 1},
		{"a message with the kept key, keys cached", nil, f.v.Message, "", f.v.MessageText, 1},
		{"a reply, keys cached", nil, f.v.ReplyValid, "", f.v.ReplyText, 1},
		{"after the TTL, fetched again", func() { f.now = f.now.Add(xchatopen.DefaultSignerTTL) }, f.v.Message, "", f.v.MessageText, 2},
		{"a version the cache lacks, fetched again at once", func() {
			f.x.keys = nil
			f.now = f.now.Add(xchatopen.DefaultSignerTTL)
		}, f.v.Message, "", "", 3},
		{"the new keys, fetched again at once", func() { f.x.keys = map[string][]xchat.SigningKey{f.v.SenderID: {f.v.signingKey()}} }, f.v.Message, "", f.v.MessageText, 4},
	}
	for _, s := range steps {
		if s.prepare != nil {
			s.prepare()
		}
		env := f.envelope(t, s.encoded, s.keyChange)
		if err := f.o.Open(t.Context(), env); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if env.Message.Text != s.text || f.x.calls != s.calls {
			t.Errorf("%s: text %q (problem %q), %d fetches; want %q, %d", s.name, env.Message.Text, env.Message.XChat.Problem, f.x.calls, s.text, s.calls)
		}
	}
}

// failingItems is a table that does not answer.
type failingItems struct{}

var errDynamo = errors.New("DynamoDB unreachable")

func (failingItems) PutConversationKey(context.Context, store.ConversationKey) (bool, error) {
	return false, errDynamo
}

func (failingItems) ConversationKeys(context.Context, string) ([]store.ConversationKey, error) {
	return nil, errDynamo
}

// TestOpenUntouched: what Open leaves alone, and a table that does not answer
// (a retry, the message unchanged).
func TestOpenUntouched(t *testing.T) {
	f := newFixture(t)
	withText := f.envelope(t, f.v.Message, f.v.KeyChange)
	withText.Message.Text = "already read"
	notXChat := f.envelope(t, f.v.Message, f.v.KeyChange)
	notXChat.Message.XChat = nil
	for _, env := range []*envelope{{"with text", withText, "already read"}, {"not X Chat", notXChat, ""}} {
		if err := f.o.Open(t.Context(), env.env); err != nil || env.env.Message.Text != env.text || f.x.calls != 0 {
			t.Errorf("%s: Open = %v, text %q, %d fetches", env.name, err, env.env.Message.Text, f.x.calls)
		}
	}
	f.o.Keys.(*xchatopen.SealedKeys).Items = failingItems{}
	for _, kc := range []string{f.v.KeyChange, ""} {
		env := f.envelope(t, f.v.Message, kc)
		if err := f.o.Open(t.Context(), env); !errors.Is(err, errDynamo) || env.Message.Text != "" || env.Message.XChat.Problem != "" {
			t.Errorf("key change %v with the table down: Open = %v, message %+v; want the error, the message unchanged", kc != "", err, env.Message.XChat)
		}
	}
}

type envelope struct {
	name string
	env  *care.Envelope
	text string
}
