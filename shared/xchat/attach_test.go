package xchat

import (
	"errors"
	"testing"
)

// TestAttachSignature: a message delivered without its signature inside
// verifies with the one delivered beside it, and a signature inside the
// event is never replaced.
func TestAttachSignature(t *testing.T) {
	v := loadVectors(t)
	signed := parse(t, v.EventMessage)
	sig, ver, sv := signed.sig.signature, signed.SigningKeyVersion, signed.SignatureVersion
	tests := []struct {
		name     string
		prepare  func(ev *Event)
		sig      string
		attached bool
		wantErr  error
	}{
		{"beside the event", func(ev *Event) { ev.sig, ev.SigningKeyVersion, ev.SignatureVersion = nil, "", "" }, sig, true, nil},
		{"inside the event kept", func(*Event) {}, "AAAA", false, nil},
		{"a forged one beside", func(ev *Event) { ev.sig = nil }, "AAAA", true, ErrBadSignature},
		{"none", func(ev *Event) { ev.sig = nil }, "", false, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := parse(t, v.EventMessage)
			tt.prepare(ev)
			if got := ev.AttachSignature(tt.sig, ver, sv); got != tt.attached {
				t.Errorf("AttachSignature = %v, want %v", got, tt.attached)
			}
			_, err := Decrypt(ev, v.keys(t), v.signers(t))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Decrypt = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
