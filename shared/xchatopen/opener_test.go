package xchatopen_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/localseal"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xchat"
	"github.com/pajarito-care/pajarito/shared/xchatopen"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// vectors is what these tests use of X's Chat SDK vectors
// (shared/xchat/testdata/sdk_vectors.json; see its README).
type vectors struct {
	ConversationKey      string `json:"conversation_key_b64"`
	ConversationID       string `json:"event_conversation_id"`
	KeyVersion           string `json:"event_conversation_key_version"`
	KeyChange            string `json:"event_key_change_b64"`
	Message              string `json:"event_message_b64"`
	MessageText          string `json:"event_message_text"`
	RecipientKeyVersion  string `json:"event_recipient_key_version"`
	SenderID             string `json:"event_sender_id"`
	SigningKeyVersion    string `json:"event_signing_key_version"`
	IdentityPublic       string `json:"identity_public_b64"`
	IdentityPublicKeySig string `json:"identity_public_key_signature_b64"`
	PrivateKeys          string `json:"private_keys_concat_b64"`
	SigningPublic        string `json:"signing_public_b64"`
	ReplyValid           string `json:"event_reply_valid_b64"`
	ReplyText            string `json:"event_reply_text"`
}

func loadVectors(t *testing.T) *vectors {
	t.Helper()
	b, err := os.ReadFile("../xchat/testdata/sdk_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// signingKey is the vectors' sender's key as X serves it.
func (v *vectors) signingKey() xchat.SigningKey {
	return xchat.SigningKey{UserID: v.SenderID, Version: v.SigningKeyVersion, PublicKey: v.SigningPublic,
		IdentityPublicKey: v.IdentityPublic, IdentityPublicKeySignature: v.IdentityPublicKeySig}
}

// fakeX serves signing keys, counting the calls, or fails.
type fakeX struct {
	mu    sync.Mutex
	keys  map[string][]xchat.SigningKey
	err   error
	calls int
}

func (x *fakeX) signers(_ context.Context, userID string) ([]xchat.SigningKey, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.calls++
	return x.keys[userID], x.err
}

// fixture is an opener with the vectors' identity (the brand, here), keys
// sealed by the local sealer in a dynalite table, and a fake X.
type fixture struct {
	v     *vectors
	x     *fakeX
	store *store.Store
	o     *xchatopen.Opener
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	v := loadVectors(t)
	id, err := xchat.ParseIdentityBase64(v.PrivateKeys)
	if err != nil {
		t.Fatal(err)
	}
	id.UserID, id.KeyVersion = v.SenderID, v.RecipientKeyVersion
	sealer, err := localseal.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{v: v, x: &fakeX{keys: map[string][]xchat.SigningKey{v.SenderID: {v.signingKey()}}},
		store: storetest.New(t), now: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)}
	f.o = &xchatopen.Opener{
		Identities: map[string]*xchat.Identity{id.KeyVersion: id},
		Keys:       &xchatopen.SealedKeys{Items: f.store, Sealer: sealer, SealerID: sealer.String()},
		Signers:    f.x.signers,
		Now:        func() time.Time { return f.now },
	}
	return f
}

// envelope is a chat.received delivery of encoded (and the key change, when
// not empty) from the vectors' sender.
func (f *fixture) envelope(t *testing.T, encoded, keyChange string) *care.Envelope {
	t.Helper()
	raw, err := json.Marshal(map[string]string{"encoded_event": encoded, "conversation_key_change_event": keyChange})
	if err != nil {
		t.Fatal(err)
	}
	return &care.Envelope{Kind: care.KindMessage, Raw: raw, Message: &care.Message{
		Channel: care.DM, Direction: care.Inbound, ID: "1800000000000000001", AuthorID: f.v.SenderID,
		XChat: &care.XChat{EventID: "2c2a1d32-988b-4b0e-9e63-c3baab3003fd", ConversationID: f.v.ConversationID},
	}}
}

// tampered flips one byte of the message's ciphertext.
func tampered(t *testing.T, encoded string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte{0x0b, 0x00, 0x64}) // field 100, binary: the contents
	if i < 0 {
		t.Fatal("no contents in the message event")
	}
	b[i+7+30] ^= 1
	return base64.StdEncoding.EncodeToString(b)
}

func TestOpen(t *testing.T) {
	transient := errors.New("X unreachable")
	tests := []struct {
		name      string
		prepare   func(f *fixture)
		env       func(t *testing.T, f *fixture) *care.Envelope
		text      string
		problem   string // a prefix
		wantErr   error
		keptAfter bool // the conversation key is kept afterwards
	}{
		{"opened with the key change beside it", nil,
			func(t *testing.T, f *fixture) *care.Envelope { return f.envelope(t, f.v.Message, f.v.KeyChange) },
			"fixture event message", "", nil, true},
		{"tampered ciphertext", nil,
			func(t *testing.T, f *fixture) *care.Envelope {
				return f.envelope(t, tampered(t, f.v.Message), f.v.KeyChange)
			},
			"", "could not verify: the signature is missing, or not that of the signing key user 1111", nil, true},
		{"unknown sender", func(f *fixture) { f.x.keys = nil },
			func(t *testing.T, f *fixture) *care.Envelope { return f.envelope(t, f.v.Message, f.v.KeyChange) },
			"", "could not verify: user 1111 has registered no signing key of version \"1\"", nil, false},
		{"missing key version", nil,
			func(t *testing.T, f *fixture) *care.Envelope { return f.envelope(t, f.v.Message, "") },
			"", "Pajarito holds no conversation key of version \"1001\"", nil, false},
		{"another sender than X's payload says", nil,
			func(t *testing.T, f *fixture) *care.Envelope {
				env := f.envelope(t, f.v.Message, f.v.KeyChange)
				env.Message.AuthorID = "2222"
				return env
			},
			"", "could not verify: the encrypted event names another sender", nil, true},
		{"signers not to be had", func(f *fixture) { f.x.err = xchatopen.ErrNoSigner },
			func(t *testing.T, f *fixture) *care.Envelope { return f.envelope(t, f.v.Message, f.v.KeyChange) },
			"", "could not verify: the signing keys of user 1111 could not be had from X", nil, false},
		{"transient signer failure", func(f *fixture) { f.x.err = transient },
			func(t *testing.T, f *fixture) *care.Envelope { return f.envelope(t, f.v.Message, f.v.KeyChange) },
			"", "", transient, false},
		{"the key change as the event", nil,
			func(t *testing.T, f *fixture) *care.Envelope { return f.envelope(t, f.v.KeyChange, "") },
			"", "a conversation key change, not a message", nil, true},
		{"not an event", nil,
			func(t *testing.T, f *fixture) *care.Envelope { return f.envelope(t, "!!!not-an-event!!!", "") },
			"", "X's encoded event is not an X Chat event", nil, false},
		{"no encoded event", nil,
			func(t *testing.T, f *fixture) *care.Envelope { return f.envelope(t, "", "") },
			"", "X's payload holds no encoded event", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.prepare != nil {
				tt.prepare(f)
			}
			env := tt.env(t, f)
			err := f.o.Open(t.Context(), env)
			m := env.Message
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Open = %v, want %v", err, tt.wantErr)
			}
			if m.Text != tt.text || m.XChat.Verified != (tt.text != "") || !strings.HasPrefix(m.XChat.Problem, tt.problem) || (tt.problem == "") != (m.XChat.Problem == "") {
				t.Errorf("message text %q, verified %v, problem %q; want %q, problem %q…", m.Text, m.XChat.Verified, m.XChat.Problem, tt.text, tt.problem)
			}
			f.checkKept(t, tt.keptAfter)
		})
	}
}

// checkKept checks whether the vectors' conversation key is kept, sealed.
func (f *fixture) checkKept(t *testing.T, want bool) {
	t.Helper()
	items, err := f.store.ConversationKeys(t.Context(), f.v.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	if (len(items) == 1) != want || len(items) > 1 {
		t.Fatalf("kept keys %+v, want the key kept: %v", items, want)
	}
	key, _ := base64.StdEncoding.DecodeString(f.v.ConversationKey)
	for _, it := range items {
		if it.KeyVersion != f.v.KeyVersion || bytes.Contains(it.Sealed, key) || !strings.HasPrefix(it.Sealer, "local:") {
			t.Errorf("kept key %+v: want version %s, sealed", it, f.v.KeyVersion)
		}
	}
}
