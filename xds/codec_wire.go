package xds

import (
	"errors"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// Reading protobuf wire data where gRPC left it: a received message is a
// list of buffers (HTTP/2 frames), and joining them would copy the whole
// request, rounded up to a pool size (1 MiB for a 300 KB ACK).

// errGroup: the input has a (deprecated) group field, which the reader
// leaves to protobuf.
var errGroup = errors.New("group field")

// segmentsOf returns the bytes of each buffer of data.
func segmentsOf(data mem.BufferSlice) [][]byte {
	segs := make([][]byte, 0, len(data))
	for _, b := range data {
		segs = append(segs, b.ReadOnlyData())
	}
	return segs
}

// wireReader reads fields from segments: a value within one segment is
// returned in place, one split over two is copied into scratch (valid
// until the next read).
type wireReader struct {
	segs    [][]byte
	scratch []byte
	// raw is the last field's encoding when it was read in place (nil
	// when it was split over segments).
	raw []byte
}

func (r *wireReader) skipEmpty() {
	for len(r.segs) > 0 && len(r.segs[0]) == 0 {
		r.segs = r.segs[1:]
	}
}

func (r *wireReader) empty() bool {
	r.skipEmpty()
	return len(r.segs) == 0
}

func (r *wireReader) take(n int) ([]byte, error) {
	r.skipEmpty()
	if n == 0 {
		return nil, nil
	}
	if len(r.segs) > 0 && len(r.segs[0]) >= n {
		b := r.segs[0][:n]
		r.segs[0] = r.segs[0][n:]
		return b, nil
	}
	r.scratch = r.scratch[:0]
	for n > 0 {
		r.skipEmpty()
		if len(r.segs) == 0 {
			return nil, protowire.ParseError(-1) // unexpected EOF
		}
		k := min(n, len(r.segs[0]))
		r.scratch = append(r.scratch, r.segs[0][:k]...)
		r.segs[0] = r.segs[0][k:]
		n -= k
	}
	return r.scratch, nil
}

func (r *wireReader) varint() (uint64, error) {
	var v uint64
	for i := 0; i < 10; i++ {
		r.skipEmpty()
		if len(r.segs) == 0 {
			return 0, protowire.ParseError(-1)
		}
		c := r.segs[0][0]
		r.segs[0] = r.segs[0][1:]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if i == 9 && c > 1 {
				return 0, protowire.ParseError(-3) // overflow
			}
			return v, nil
		}
	}
	return 0, protowire.ParseError(-3)
}

// field reads one field: its number and type, and its value: v for varint
// and fixed types, b (the payload) for length-delimited ones.
func (r *wireReader) field() (num protowire.Number, typ protowire.Type, v uint64, b []byte, err error) {
	r.skipEmpty()
	r.raw = nil
	if len(r.segs) > 0 { // in place, the common case: the field is within one segment
		seg := r.segs[0]
		if num, typ, n := protowire.ConsumeTag(seg); n > 0 && typ != protowire.StartGroupType {
			if m := protowire.ConsumeFieldValue(num, typ, seg[n:]); m >= 0 {
				value := seg[n : n+m]
				switch typ {
				case protowire.VarintType:
					v, _ = protowire.ConsumeVarint(value)
				case protowire.Fixed32Type:
					x, _ := protowire.ConsumeFixed32(value)
					v = uint64(x)
				case protowire.Fixed64Type:
					v, _ = protowire.ConsumeFixed64(value)
				case protowire.BytesType:
					b, _ = protowire.ConsumeBytes(value)
				}
				r.raw, r.segs[0] = seg[:n+m], seg[n+m:]
				return num, typ, v, b, nil
			}
		}
	}
	// Split over segments, or malformed: byte by byte.
	tag, err := r.varint()
	if err != nil {
		return 0, 0, 0, nil, err
	}
	num, typ = protowire.DecodeTag(tag)
	if num < protowire.MinValidNumber || num > protowire.MaxValidNumber {
		return 0, 0, 0, nil, protowire.ParseError(-4) // invalid field number
	}
	switch typ {
	case protowire.VarintType:
		v, err = r.varint()
	case protowire.Fixed32Type, protowire.Fixed64Type:
		n := 4
		if typ == protowire.Fixed64Type {
			n = 8
		}
		var raw []byte
		if raw, err = r.take(n); err == nil {
			for i := n - 1; i >= 0; i-- {
				v = v<<8 | uint64(raw[i])
			}
		}
	case protowire.BytesType:
		var l uint64
		if l, err = r.varint(); err == nil {
			if l > uint64(maxInt) {
				return 0, 0, 0, nil, protowire.ParseError(-1)
			}
			b, err = r.take(int(l))
		}
	case protowire.StartGroupType, protowire.EndGroupType:
		err = errGroup
	default:
		err = protowire.ParseError(-5) // reserved wire type
	}
	return num, typ, v, b, err
}

const maxInt = int(^uint(0) >> 1)

// appendField appends a field as read by wireReader.field.
func appendField(dst []byte, num protowire.Number, typ protowire.Type, v uint64, b []byte) []byte {
	dst = protowire.AppendTag(dst, num, typ)
	switch typ {
	case protowire.VarintType:
		return protowire.AppendVarint(dst, v)
	case protowire.Fixed32Type:
		return protowire.AppendFixed32(dst, uint32(v))
	case protowire.Fixed64Type:
		return protowire.AppendFixed64(dst, v)
	default:
		return protowire.AppendBytes(dst, b)
	}
}
