package xchat

import (
	"errors"
	"testing"
)

// sentinel reports whether err wraps one of the package's errors.
func sentinel(err error) bool {
	for _, s := range []error{ErrMalformed, ErrUnsupported, ErrNoKey, ErrUnverified, ErrBadSignature, ErrTampered} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzParseEvent feeds arbitrary bytes to ParseEvent, and what parses to
// ConversationKeys and Decrypt with the vectors' keys: nothing may panic, and
// every error must wrap one of the package's errors.
func FuzzParseEvent(f *testing.F) {
	v := loadVectors(f)
	for _, s := range []string{v.EventKeyChange, v.EventMessage, v.EventReplyValid, v.EventReplyForged, v.EventFailure} {
		b := b64(f, s)
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte(v.EventGarbage))
	f.Add([]byte{})
	id, signers, keys := v.identity(f), v.signers(f), v.keys(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseEvent(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || ev != nil {
				t.Fatalf("ParseEvent = %v, %v; want ErrMalformed", ev, err)
			}
			return
		}
		if m, err := Decrypt(ev, keys, signers); err != nil && (!sentinel(err) || m != nil) {
			t.Fatalf("Decrypt = %v, %v", m, err)
		}
		if k, err := id.ConversationKeys(ev, signers); err != nil && (!sentinel(err) || k != nil) {
			t.Fatalf("ConversationKeys = %v, %v", k, err)
		}
	})
}

// FuzzParseContent feeds arbitrary bytes to the decrypted-content parser,
// which ParseEvent cannot reach past signatures and authentication, and
// validates any reply preview it finds.
func FuzzParseContent(f *testing.F) {
	v := loadVectors(f)
	for _, s := range []string{v.EventMessage, v.EventReplyValid, v.EventReplyForged} {
		pt, err := open(parse(f, s), v.keys(f), v.signers(f))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pt)
	}
	reply, signers, keys := parse(f, v.EventReplyValid), v.signers(f), v.keys(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, p, err := parseContent(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("parseContent = %v; want ErrMalformed", err)
			}
			return
		}
		if p != nil {
			_ = p.public()
			_ = p.validate(reply, keys, signers)
		}
	})
}
