package xchatopen_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xchatopen"
)

// TestKeyring: the brand's X Chat parts load when first needed; a load that
// fails fails the X Chat message or reply that needed them (retried), and is
// tried again after RetryAfter, not at every message; without keys, messages
// stay unread and replies cannot go.
func TestKeyring(t *testing.T) {
	f := newFixture(t)
	now := f.now
	loads, fail := 0, errors.New("secrets manager: throttled")
	k := &xchatopen.Keyring{Now: func() time.Time { return now }, Load: func(context.Context) (*xchatopen.Opener, *xchatopen.Sender, error) {
		loads++
		if fail != nil {
			return nil, nil, fail
		}
		return f.o, nil, nil
	}}
	env := f.envelope(t, f.v.Message, f.v.KeyChange)
	if err := k.Open(t.Context(), env); !errors.Is(err, fail) || env.Message.Text != "" {
		t.Fatalf("Open with the keys unloadable = %v (text %q); want the load's error, the message untouched", err, env.Message.Text)
	}
	if _, err := k.SendChat(t.Context(), "2222", care.XChatReplyMessageID("r1"), "hola"); !errors.Is(err, xapi.ErrNotSent) || !errors.Is(err, fail) {
		t.Errorf("SendChat with the keys unloadable = %v; want a retry (xapi.ErrNotSent) saying why", err)
	}
	if loads != 1 {
		t.Errorf("%d loads within a minute, want 1", loads)
	}
	now, fail = now.Add(2*time.Minute), nil
	if err := k.Open(t.Context(), env); err != nil || env.Message.Text == "" || !env.Message.XChat.Verified {
		t.Fatalf("Open after the keys loaded = %v (message %+v)", err, env.Message)
	}
	if _, err := k.SendChat(t.Context(), "2222", care.XChatReplyMessageID("r1"), "hola"); !errors.Is(err, xapi.ErrUnsendable) {
		t.Errorf("SendChat without a Sender = %v, want xapi.ErrUnsendable", err)
	}
	if loads != 2 {
		t.Errorf("%d loads, want 2: one failed, one that holds", loads)
	}

	none := &xchatopen.Keyring{Load: func(context.Context) (*xchatopen.Opener, *xchatopen.Sender, error) { return nil, nil, nil }}
	unread := f.envelope(t, f.v.Message, f.v.KeyChange)
	if err := none.Open(t.Context(), unread); err != nil || unread.Message.Text != "" || unread.Message.XChat.Problem != "" {
		t.Errorf("Open without X Chat keys = %v, %+v; want the message left unread", err, unread.Message.XChat)
	}
}
