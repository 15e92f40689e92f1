package xfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pajarito-care/pajarito/shared/xchat"
)

// SampleKeysFile holds the X Chat keys of the sample conversations
// (xaa-chat-*.json), under the sample events' folder; a folder of its own,
// so that replaying the folder does not send it as a webhook body.
const SampleKeysFile = "xchat/sample-keys.json"

// SampleKeys are the X Chat keys of the sample conversations: the brand's
// private keys, which open them in the local system with the fake X (public
// keys, never to be registered with X), and every participant's registered
// public keys.
type SampleKeys struct {
	Comment string `json:"_comment"`
	Brand   struct {
		UserID      string `json:"user_id"`
		PrivateKeys string `json:"xchat_private_keys"` // base64, as xapi.SecretXChatPrivateKeys
		KeyVersion  string `json:"xchat_key_version"`
	} `json:"brand"`
	PublicKeys []PublicKey `json:"public_keys"`
}

// ReadSampleKeys reads dir's SampleKeysFile; nil, without error, when there
// is none.
func ReadSampleKeys(dir string) (*SampleKeys, error) {
	b, err := os.ReadFile(filepath.Join(dir, SampleKeysFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("xfake: %w", err)
	}
	var k SampleKeys
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("xfake: %s: %w", SampleKeysFile, err)
	}
	return &k, nil
}

// SeedChat gives the fake the sample X Chat conversations of dir, as if their
// participants had set them up through its routes: their public keys
// (SampleKeysFile) and the key changes the chat.* samples carry, so that the
// brand can answer them. It returns how many key changes it took.
func (s *Server) SeedChat(dir string) (int, error) {
	keys, err := ReadSampleKeys(dir)
	if err != nil || keys == nil {
		return 0, err
	}
	s.AddPublicKeys(keys.PublicKeys...)
	files, err := filepath.Glob(filepath.Join(dir, "xaa-chat-*.json"))
	if err != nil {
		return 0, fmt.Errorf("xfake: %w", err)
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return n, fmt.Errorf("xfake: %w", err)
		}
		var d chatEnvelope
		if err := json.Unmarshal(b, &d); err != nil {
			return n, fmt.Errorf("xfake: %s: %w", filepath.Base(f), err)
		}
		if kc := d.Data.Payload.ConversationKeyChangeEvent; kc != "" && s.addKeyChange(kc) {
			n++
		}
	}
	return n, nil
}

// addKeyChange keeps a key-change event (base64, signed) as its
// conversation's, unless the fake holds it; it reports whether it took it.
func (s *Server) addKeyChange(encoded string) bool {
	ev, err := xchat.ParseEventBase64(encoded)
	if err != nil || ev.Kind != xchat.KindKeyChange {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chat.convs[ev.ConversationID]; c != nil {
		if _, held := c.answers[ev.SenderID+" "+ev.MessageID]; held {
			return false
		}
	}
	s.chat.seq++
	s.storeChatLocked(chatRecord{ConversationID: ev.ConversationID, SenderID: ev.SenderID, MessageID: ev.MessageID,
		SequenceID: strconv.FormatUint(s.chat.seq, 10), KeyChange: true, KeyVersion: ev.KeyVersion, Event: encoded})
	return true
}

// Identity returns the sample brand's X Chat identity.
func (k *SampleKeys) Identity() (*xchat.Identity, error) {
	id, err := xchat.ParseIdentityBase64(k.Brand.PrivateKeys)
	if err != nil {
		return nil, fmt.Errorf("xfake: %s: %w", SampleKeysFile, err)
	}
	id.UserID, id.KeyVersion = k.Brand.UserID, k.Brand.KeyVersion
	return id, nil
}

// Signers returns the sample participants' signing keys, each checked against
// its identity key.
func (k *SampleKeys) Signers() (*xchat.SigningKeySet, error) {
	var set xchat.SigningKeySet
	for _, p := range k.PublicKeys {
		if err := set.Add(xchat.SigningKey{UserID: p.UserID, Version: p.Version, PublicKey: p.SigningPublicKey,
			IdentityPublicKey: p.PublicKey, IdentityPublicKeySignature: p.IdentityPublicKeySignature}); err != nil {
			return nil, fmt.Errorf("xfake: %s: the keys of %s: %w", SampleKeysFile, p.UserID, err)
		}
	}
	return &set, nil
}
