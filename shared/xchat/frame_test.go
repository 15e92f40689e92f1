package xchat

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
)

// encodeEvent encodes a parsed event back to a Thrift MessageEvent, in the
// field order the SDK writes, so that tests can alter a vector and re-sign it.
func encodeEvent(t testing.TB, ev *Event) []byte {
	t.Helper()
	e := newEncoder()
	if ev.SequenceID != "" {
		e.str(1, ev.SequenceID)
	}
	if ev.hasMessageID {
		e.str(2, ev.MessageID)
	}
	if ev.hasSenderID {
		e.str(3, ev.SenderID)
	}
	if ev.hasConversationID {
		e.str(4, ev.ConversationID)
	}
	if !ev.CreatedAt.IsZero() {
		e.str(6, strconv.FormatInt(ev.CreatedAt.UnixMilli(), 10))
	}
	e.begin(thrift.STRUCT, 7)
	encodeDetail(e, ev)
	e.stop()
	if s := ev.sig; s != nil {
		e.begin(thrift.STRUCT, 9)
		if s.hasSignature {
			e.str(1, s.signature)
		}
		if ev.SigningKeyVersion != "" {
			e.str(2, ev.SigningKeyVersion)
		}
		if ev.SignatureVersion != "" {
			e.str(3, ev.SignatureVersion)
		}
		e.stop()
	}
	e.stop()
	b, err := e.bytes()
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(b)
}

// encodeDetail writes the fields of the MessageEventDetail union.
func encodeDetail(e *encoder, ev *Event) {
	switch ev.Kind {
	case KindMessage:
		m := ev.msg
		e.begin(thrift.STRUCT, 1)
		if m.hasContents {
			e.binary(100, m.contents)
		}
		if m.hasKeyVer {
			e.str(101, m.keyVersion)
		}
		if m.hasNotify {
			e.boolean(102, m.shouldNotify)
		}
		if m.hasTTL {
			e.begin(thrift.I64, 103)
			e.check(e.p.WriteI64(ctx, m.ttlMsec))
		}
		e.stop()
	case KindKeyChange:
		e.begin(thrift.STRUCT, 3)
		e.str(1, ev.KeyVersion)
		e.begin(thrift.LIST, 2)
		e.check(e.p.WriteListBegin(ctx, thrift.STRUCT, len(ev.ParticipantKeys)))
		for _, pk := range ev.ParticipantKeys {
			e.str(1, pk.UserID)
			e.str(2, pk.EncryptedKey)
			e.str(3, pk.PublicKeyVersion)
			e.stop()
		}
		e.stop()
	case KindFailure:
		e.begin(thrift.STRUCT, 5)
		e.begin(thrift.I32, 1)
		e.check(e.p.WriteI32(ctx, int32(ev.Failure.Type)))
		e.begin(thrift.I32, 2)
		e.check(e.p.WriteI32(ctx, int32(ev.Failure.RateLimitTier)))
		e.stop()
	}
}

// reparse encodes an altered event and parses it again.
func reparse(t testing.TB, ev *Event) *Event {
	t.Helper()
	got, err := ParseEvent(encodeEvent(t, ev))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// signMessageEvent signs a message event's current fields with id's key.
func signMessageEvent(t testing.TB, id *Identity, ev *Event) {
	t.Helper()
	p, err := eventPayload(ev, "MessageCreateEvent", []byte(ev.msg.keyVersion),
		[]byte(base64.RawStdEncoding.EncodeToString(ev.msg.contents)))
	if err != nil {
		t.Fatal(err)
	}
	setSignature(t, id, ev, p)
}

// signKeyChangeEvent signs a key change's current fields with id's key.
func signKeyChangeEvent(t testing.TB, id *Identity, ev *Event, key []byte) {
	t.Helper()
	p, err := eventPayload(ev, "ConversationKeyChangeEvent", []byte(ev.KeyVersion),
		[]byte(base64.RawStdEncoding.EncodeToString(key)))
	if err != nil {
		t.Fatal(err)
	}
	setSignature(t, id, ev, p)
}

func setSignature(t testing.TB, id *Identity, ev *Event, p []byte) {
	t.Helper()
	sig, err := id.sign(p)
	if err != nil {
		t.Fatal(err)
	}
	if ev.sig == nil {
		ev.sig = &eventSignature{}
	}
	ev.sig.signature, ev.sig.hasSignature = base64.RawStdEncoding.EncodeToString(sig), true
}

// frame wraps a SendPayload into the event the backend would relay, as the
// SDK's internals::frame_send_payload does.
func frame(t testing.TB, p SendPayload, sequenceID, senderID, conversationID string) []byte {
	t.Helper()
	e := newEncoder()
	e.str(1, sequenceID)
	e.str(2, p.MessageID)
	e.str(3, senderID)
	e.str(4, conversationID)
	e.str(6, "1700000000000")
	e.begin(thrift.STRUCT, 7)
	e.begin(thrift.STRUCT, 1)
	e.raw(b64(t, p.EncryptedContent))
	e.stop()
	e.begin(thrift.STRUCT, 9)
	e.raw(b64(t, p.EncodedEventSignature))
	e.stop()
	b, err := e.bytes()
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(b)
}

// TestEncodeEventRoundTrip checks the test encoder against the vectors, so
// that tampering tests alter nothing but what they mean to.
func TestEncodeEventRoundTrip(t *testing.T) {
	v := loadVectors(t)
	for _, s := range []string{v.EventKeyChange, v.EventMessage, v.EventFailure} {
		if got := encodeEvent(t, parse(t, s)); !bytes.Equal(got, b64(t, s)) {
			t.Errorf("re-encoded event differs:\n got %x\nwant %x", got, b64(t, s))
		}
	}
}
