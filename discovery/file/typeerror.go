package file

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// describeDecodeError says what is wrong with a document that decoded to
// JSON (js) but not into its Go type, in the world file's terms: the path
// of the field with list indexes and the kinds of value wanted and given
// (spec.ports[0].number, want an integer, got string "abc"), rather than
// encoding/json's Go struct and type names. field is "" when the error
// names no value in js.
func describeDecodeError(js []byte, err error) (field, msg string) {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// Field is "" for the document itself (a list, say).
		if path, got, ok := valueAt(js, te.Offset); ok && (path == "") == (te.Field == "") && pathMatches(path, te.Field) {
			return path, "want " + wanted(te.Type, got) + ", got " + got.describe()
		}
		// The error is not at the offset (a custom decoder's error
		// carries the offset inside the value): still no Go names.
		return "", fmt.Sprintf("want %s, got %s", wanted(te.Type, jsonValue{}), te.Value)
	}
	return "", strings.TrimPrefix(err.Error(), "json: ")
}

// jsonValue is one JSON value as a decoder token: a string, json.Number,
// bool, nil, or the delimiter opening a list or an object.
type jsonValue struct {
	tok json.Token
}

func (v jsonValue) describe() string {
	switch t := v.tok.(type) {
	case string:
		return "string " + strconv.Quote(truncate(t, 40))
	case json.Number:
		return "number " + truncate(string(t), 40)
	case bool:
		return strconv.FormatBool(t)
	case nil:
		return "null"
	case json.Delim:
		if t == '[' {
			return "a list"
		}
		return "an object"
	}
	return fmt.Sprint(v.tok)
}

// wanted names the kind of value of Go type t in JSON terms; got refines
// it for an integer out of range.
func wanted(t reflect.Type, got jsonValue) string {
	if t == nil {
		return "another kind of value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, ok := got.tok.(json.Number); ok && isInteger(n) {
			bits := t.Bits()
			return fmt.Sprintf("an integer from %d to %d", int64(-1)<<(bits-1), int64(math.MaxInt64)>>(64-bits))
		}
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n, ok := got.tok.(json.Number); ok && isInteger(n) {
			return fmt.Sprintf("an integer from 0 to %d", uint64(math.MaxUint64)>>(64-t.Bits()))
		}
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another kind of value"
}

func isInteger(n json.Number) bool {
	return !strings.ContainsAny(string(n), ".eE")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// pathMatches reports whether path (spec.ports[0].number) can be the
// field encoding/json names (VirtualDestination.spec.ports.number: no
// indexes, maybe Go names of embedded structs in front, no map key): a
// sanity check that valueAt found the value the error is about.
func pathMatches(path, goField string) bool {
	if path == "" {
		return true
	}
	last := goField[strings.LastIndexByte(goField, '.')+1:]
	plain := strings.NewReplacer("[", ".", "]", "").Replace(path)
	return slices.Contains(strings.Split(plain, "."), last)
}

// frame is one list or object valueAt is inside.
type frame struct {
	list    bool
	index   int    // list: the element's index
	key     string // object: the member's key
	wantKey bool   // object: the next token is a key
}

// valueAt finds the value of js at offset as encoding/json reports it in
// an UnmarshalTypeError: the end of a string, number, bool or null, or
// just past the '[' or '{' opening a list or object. It returns the
// value's path in the world file's notation and the value.
func valueAt(js []byte, offset int64) (path string, got jsonValue, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var stack []*frame
	afterValue := func() {
		if len(stack) == 0 {
			return
		}
		top := stack[len(stack)-1]
		if top.list {
			top.index++
		} else {
			top.wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", jsonValue{}, false
		}
		delim, isDelim := tok.(json.Delim)
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			if isDelim && (delim == '}' || delim == ']') {
				stack = stack[:len(stack)-1]
				afterValue()
				continue
			}
			if !top.list && top.wantKey {
				top.key, _ = tok.(string)
				top.wantKey = false
				continue
			}
		}
		if dec.InputOffset() == offset {
			return formatPath(stack), jsonValue{tok}, true
		}
		if dec.InputOffset() > offset {
			return "", jsonValue{}, false
		}
		if isDelim {
			stack = append(stack, &frame{list: delim == '[', wantKey: delim == '{'})
			continue
		}
		afterValue()
	}
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// formatPath is spec.ports[0].number; a key that is not a plain name is
// quoted, as in metadata.labels["app.kubernetes.io/name"].
func formatPath(stack []*frame) string {
	var b strings.Builder
	for _, f := range stack {
		switch {
		case f.list:
			fmt.Fprintf(&b, "[%d]", f.index)
		case plainKey.MatchString(f.key):
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		default:
			fmt.Fprintf(&b, "[%s]", strconv.Quote(f.key))
		}
	}
	return b.String()
}
