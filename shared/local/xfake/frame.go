package xfake

// Framing of X Chat's MessageEvents, as X's backend relays them (Thrift binary
// protocol, the SDK's internals::frame_send_payload): 1 sequence_id, 2
// message_id, 3 sender_id, 4 conversation_id, 6 created_at_msec (strings), 7
// detail (the MessageEventDetail union) and 9 signature (a
// MessageEventSignature: 1 signature, 2 public_key_version, 3
// signature_version).

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/thrift/lib/go/thrift"
)

// thriftConf bounds what decoding a client's bytes may allocate.
var thriftConf = &thrift.TConfiguration{MaxMessageSize: 4 << 20}

// eventFrame is what a MessageEvent is made of.
type eventFrame struct {
	SequenceID, MessageID, SenderID, ConversationID string
	CreatedAtMsec                                   int64
	// Detail is the body of the detail: with Message, a MessageCreateEvent's
	// fields and stop (the SDK's encryptedContent), wrapped here as the union's
	// field 1; else the MessageEventDetail union's own fields and stop (a key
	// change's encodedMessageEventDetail).
	Detail  []byte
	Message bool
	// Signature is a MessageEventSignature's fields and stop; nil leaves field 9
	// out, as webhooks deliver a message's event.
	Signature []byte
}

// frameEvent encodes f as a Thrift MessageEvent.
func frameEvent(f eventFrame) ([]byte, error) {
	ctx := context.Background()
	buf := thrift.NewTMemoryBuffer()
	p := thrift.NewTBinaryProtocolConf(buf, thriftConf)
	var errs []error
	check := func(err error) { errs = append(errs, err) }
	raw := func(b []byte) { _, err := buf.Write(b); check(err) }
	for _, fv := range []struct {
		id int16
		v  string
	}{{1, f.SequenceID}, {2, f.MessageID}, {3, f.SenderID}, {4, f.ConversationID}, {6, strconv.FormatInt(f.CreatedAtMsec, 10)}} {
		check(p.WriteFieldBegin(ctx, "", thrift.STRING, fv.id))
		check(p.WriteString(ctx, fv.v))
	}
	check(p.WriteFieldBegin(ctx, "", thrift.STRUCT, 7))
	if f.Message {
		check(p.WriteFieldBegin(ctx, "", thrift.STRUCT, 1))
		raw(f.Detail)
		check(p.WriteFieldStop(ctx))
	} else {
		raw(f.Detail)
	}
	if f.Signature != nil {
		check(p.WriteFieldBegin(ctx, "", thrift.STRUCT, 9))
		raw(f.Signature)
	}
	check(p.WriteFieldStop(ctx))
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("xfake: framing an event: %w", err)
	}
	return bytes.Clone(buf.Bytes()), nil
}

// eventSignature is a MessageEventSignature's fields.
type eventSignature struct {
	Signature, PublicKeyVersion, SignatureVersion string
}

// encode returns the MessageEventSignature's fields and stop.
func (sig eventSignature) encode() []byte {
	ctx := context.Background()
	buf := thrift.NewTMemoryBuffer()
	p := thrift.NewTBinaryProtocolConf(buf, thriftConf)
	for i, v := range []string{sig.Signature, sig.PublicKeyVersion, sig.SignatureVersion} {
		_ = p.WriteFieldBegin(ctx, "", thrift.STRING, int16(i+1)) // writes to memory cannot fail
		_ = p.WriteString(ctx, v)
	}
	_ = p.WriteFieldStop(ctx)
	return bytes.Clone(buf.Bytes())
}

// parseSignature reads an encoded MessageEventSignature (the SDK's
// encodedEventSignature, decoded).
func parseSignature(b []byte) (eventSignature, error) {
	ctx := context.Background()
	buf := &thrift.TMemoryBuffer{Buffer: bytes.NewBuffer(b)}
	p := thrift.NewTBinaryProtocolConf(buf, thriftConf)
	var sig eventSignature
	if _, err := p.ReadStructBegin(ctx); err != nil {
		return sig, err
	}
	for {
		_, t, id, err := p.ReadFieldBegin(ctx)
		switch {
		case err != nil:
			return sig, err
		case t == thrift.STOP:
			if buf.Len() != 0 {
				return sig, errors.New("trailing bytes after the signature")
			}
			return sig, nil
		case t == thrift.STRING && id >= 1 && id <= 3:
			v, err := p.ReadString(ctx)
			if err != nil {
				return sig, err
			}
			*[]*string{&sig.Signature, &sig.PublicKeyVersion, &sig.SignatureVersion}[id-1] = v
		default:
			if err := thrift.Skip(ctx, p, t, 16); err != nil {
				return sig, err
			}
		}
		if err := p.ReadFieldEnd(ctx); err != nil {
			return sig, err
		}
	}
}

// decodeBase64 decodes standard base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "=") {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
