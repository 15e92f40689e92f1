package xchat

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/apache/thrift/lib/go/thrift"
)

// maxDepth bounds how deeply nested values are skipped or canonicalized.
const maxDepth = 32

// ctx is the context handed to the Thrift protocol, which wants one for every
// call although decoding in-memory bytes never blocks.
var ctx = context.Background()

// wireConfig bounds the sizes a peer can make the decoder allocate.
var wireConfig = &thrift.TConfiguration{MaxMessageSize: 16 << 20}

// A decoder reads Thrift binary-protocol values from a byte slice.
type decoder struct {
	data []byte
	buf  *thrift.TMemoryBuffer
	p    *thrift.TBinaryProtocol
}

func newDecoder(b []byte) *decoder {
	buf := &thrift.TMemoryBuffer{Buffer: bytes.NewBuffer(b)}
	return &decoder{data: b, buf: buf, p: thrift.NewTBinaryProtocolConf(buf, wireConfig)}
}

// pos reports how many bytes have been consumed.
func (d *decoder) pos() int { return len(d.data) - d.buf.Len() }

// fields reads a struct, calling fn for every field; fn must consume the
// field's value, by reading it or by calling skip.
func (d *decoder) fields(fn func(id int16, t thrift.TType) error) error {
	if _, err := d.p.ReadStructBegin(ctx); err != nil {
		return err
	}
	for {
		_, t, id, err := d.p.ReadFieldBegin(ctx)
		if err != nil {
			return err
		}
		if t == thrift.STOP {
			break
		}
		if err := fn(id, t); err != nil {
			return err
		}
		if err := d.p.ReadFieldEnd(ctx); err != nil {
			return err
		}
	}
	return d.p.ReadStructEnd(ctx)
}

// union reads a Thrift union. known reports whether a field id names a
// variant; read consumes a known variant. union returns the id of the
// variant read, or 0 when the union held only unknown variants, and fails,
// as the SDK's generated code does, on an empty union or on more than one
// known variant.
func (d *decoder) union(known func(id int16) bool, read func(id int16, t thrift.TType) error) (int16, error) {
	var got int16
	total := 0
	err := d.fields(func(id int16, t thrift.TType) error {
		total++
		if !known(id) || t != thrift.STRUCT {
			return d.skip(t)
		}
		if got != 0 {
			return fmt.Errorf("union holds variants %d and %d", got, id)
		}
		got = id
		return read(id, t)
	})
	if err == nil && total == 0 {
		err = fmt.Errorf("empty union")
	}
	return got, err
}

// list reads a list, calling fn for every element with the element type.
// A value of another type is skipped.
func (d *decoder) list(t thrift.TType, fn func(elem thrift.TType) error) error {
	if t != thrift.LIST {
		return d.skip(t)
	}
	elem, n, err := d.p.ReadListBegin(ctx)
	if err != nil {
		return err
	}
	for range n {
		if err := fn(elem); err != nil {
			return err
		}
	}
	return d.p.ReadListEnd(ctx)
}

func (d *decoder) skip(t thrift.TType) error { return thrift.Skip(ctx, d.p, t, maxDepth) }

// str reads a string field into dst, reporting presence in ok (ok may be nil).
func (d *decoder) str(t thrift.TType, dst *string, ok *bool) error {
	if t != thrift.STRING {
		return d.skip(t)
	}
	s, err := d.p.ReadString(ctx)
	*dst = s
	if ok != nil {
		*ok = err == nil
	}
	return err
}

func (d *decoder) binary(t thrift.TType, dst *[]byte, ok *bool) error {
	if t != thrift.STRING {
		return d.skip(t)
	}
	b, err := d.p.ReadBinary(ctx)
	*dst, *ok = b, err == nil
	return err
}

func (d *decoder) i32(t thrift.TType, dst *int32, ok *bool) error {
	if t != thrift.I32 {
		return d.skip(t)
	}
	v, err := d.p.ReadI32(ctx)
	*dst, *ok = v, err == nil
	return err
}

func (d *decoder) i64(t thrift.TType, dst *int64, ok *bool) error {
	if t != thrift.I64 {
		return d.skip(t)
	}
	v, err := d.p.ReadI64(ctx)
	*dst, *ok = v, err == nil
	return err
}

func (d *decoder) boolean(t thrift.TType, dst *bool, ok *bool) error {
	if t != thrift.BOOL {
		return d.skip(t)
	}
	v, err := d.p.ReadBool(ctx)
	*dst, *ok = v, err == nil
	return err
}

// canonical re-encodes one Thrift value with every struct's fields in field
// id order, so that two encodings of the same value compare equal.
func canonical(t thrift.TType, b []byte) ([]byte, error) {
	d := newDecoder(b)
	e := newEncoder()
	if err := d.copyValue(e, t, maxDepth); err != nil {
		return nil, err
	}
	return e.bytes()
}

// copyValue reads one value of type t and writes its canonical form to e.
func (d *decoder) copyValue(e *encoder, t thrift.TType, depth int) error {
	if depth == 0 {
		return fmt.Errorf("values nested too deeply")
	}
	switch t {
	case thrift.STRUCT:
		return d.copyStruct(e, depth)
	case thrift.LIST:
		elem, n, err := d.p.ReadListBegin(ctx)
		if err != nil {
			return err
		}
		e.check(e.p.WriteListBegin(ctx, elem, n))
		return d.copyElems(e, elem, n, depth)
	case thrift.SET:
		elem, n, err := d.p.ReadSetBegin(ctx)
		if err != nil {
			return err
		}
		e.check(e.p.WriteSetBegin(ctx, elem, n))
		return d.copyElems(e, elem, n, depth)
	case thrift.MAP:
		k, v, n, err := d.p.ReadMapBegin(ctx)
		if err != nil {
			return err
		}
		e.check(e.p.WriteMapBegin(ctx, k, v, n))
		for range n {
			if err := d.copyValue(e, k, depth-1); err != nil {
				return err
			}
			if err := d.copyValue(e, v, depth-1); err != nil {
				return err
			}
		}
		return nil
	}
	start := d.pos()
	if err := d.skip(t); err != nil {
		return err
	}
	e.raw(d.data[start:d.pos()])
	return nil
}

// copyElems copies the n elements of a list or set.
func (d *decoder) copyElems(e *encoder, elem thrift.TType, n, depth int) error {
	for range n {
		if err := d.copyValue(e, elem, depth-1); err != nil {
			return err
		}
	}
	return nil
}

// copyStruct canonicalizes a struct: its fields, sorted by id.
func (d *decoder) copyStruct(e *encoder, depth int) error {
	type field struct {
		id   int16
		t    thrift.TType
		body []byte
	}
	var fs []field
	err := d.fields(func(id int16, t thrift.TType) error {
		fe := newEncoder()
		if err := d.copyValue(fe, t, depth-1); err != nil {
			return err
		}
		body, err := fe.bytes()
		fs = append(fs, field{id, t, body})
		return err
	})
	if err != nil {
		return err
	}
	slices.SortStableFunc(fs, func(a, b field) int { return int(a.id) - int(b.id) })
	for _, f := range fs {
		e.check(e.p.WriteFieldBegin(ctx, "", f.t, f.id))
		e.raw(f.body)
	}
	e.check(e.p.WriteFieldStop(ctx))
	return nil
}

// An encoder writes Thrift binary-protocol values; the first error sticks.
type encoder struct {
	buf *thrift.TMemoryBuffer
	p   *thrift.TBinaryProtocol
	err error
}

func newEncoder() *encoder {
	buf := thrift.NewTMemoryBuffer()
	return &encoder{buf: buf, p: thrift.NewTBinaryProtocolConf(buf, wireConfig)}
}

func (e *encoder) check(err error) {
	if e.err == nil {
		e.err = err
	}
}

func (e *encoder) raw(b []byte) {
	_, err := e.buf.Write(b)
	e.check(err)
}

func (e *encoder) begin(t thrift.TType, id int16) { e.check(e.p.WriteFieldBegin(ctx, "", t, id)) }

func (e *encoder) str(id int16, s string) {
	e.begin(thrift.STRING, id)
	e.check(e.p.WriteString(ctx, s))
}

func (e *encoder) binary(id int16, b []byte) {
	e.begin(thrift.STRING, id)
	e.check(e.p.WriteBinary(ctx, b))
}

func (e *encoder) boolean(id int16, v bool) {
	e.begin(thrift.BOOL, id)
	e.check(e.p.WriteBool(ctx, v))
}

func (e *encoder) stop() { e.check(e.p.WriteFieldStop(ctx)) }

func (e *encoder) bytes() ([]byte, error) {
	if e.err != nil {
		return nil, e.err
	}
	return e.buf.Bytes(), nil
}
