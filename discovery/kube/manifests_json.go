package kube

// plainJSONObject reports whether doc is a JSON object (kubectl get -o
// json, or generated manifests) that converting from YAML would leave as
// it is, up to key order and spacing, so it can be decoded without that
// conversion: a '{' first, spaces and newlines only between tokens,
// strings of printable ASCII without escapes, integers of at most 15
// digits, true, false, null, and no duplicate or "<<" keys. Anything else
// takes the YAML path.
func plainJSONObject(doc []byte) bool {
	if len(doc) == 0 || doc[0] != '{' {
		return false
	}
	s := jsonScanner{in: doc}
	if !s.object() {
		return false
	}
	s.space()
	return s.pos == len(s.in)
}

type jsonScanner struct {
	in  []byte
	pos int
}

func (s *jsonScanner) space() {
	for s.pos < len(s.in) && (s.in[s.pos] == ' ' || s.in[s.pos] == '\n') {
		s.pos++
	}
}

func (s *jsonScanner) value() bool {
	s.space()
	if s.pos >= len(s.in) {
		return false
	}
	switch c := s.in[s.pos]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		_, ok := s.str()
		return ok
	case c == '-' || c >= '0' && c <= '9':
		return s.integer()
	}
	for _, w := range []string{"true", "false", "null"} {
		if len(s.in)-s.pos >= len(w) && string(s.in[s.pos:s.pos+len(w)]) == w {
			s.pos += len(w)
			return true
		}
	}
	return false
}

func (s *jsonScanner) object() bool {
	s.pos++ // '{'
	var keys map[string]bool
	for first := true; ; first = false {
		s.space()
		if s.pos < len(s.in) && s.in[s.pos] == '}' && first {
			s.pos++
			return true
		}
		if s.pos >= len(s.in) || s.in[s.pos] != '"' {
			return false
		}
		k, ok := s.str()
		if !ok || k == "<<" || keys[k] {
			return false
		}
		if keys == nil {
			keys = map[string]bool{}
		}
		keys[k] = true
		s.space()
		if s.pos >= len(s.in) || s.in[s.pos] != ':' {
			return false
		}
		s.pos++
		if !s.value() {
			return false
		}
		if done, ok := s.itemEnd('}'); done || !ok {
			return ok
		}
	}
}

func (s *jsonScanner) array() bool {
	s.pos++ // '['
	for first := true; ; first = false {
		s.space()
		if s.pos < len(s.in) && s.in[s.pos] == ']' && first {
			s.pos++
			return true
		}
		if !s.value() {
			return false
		}
		if done, ok := s.itemEnd(']'); done || !ok {
			return ok
		}
	}
}

// itemEnd reads what follows a member or element: ',' (more to come) or
// closing (the object or array is done); anything else is not JSON.
func (s *jsonScanner) itemEnd(closing byte) (done, ok bool) {
	s.space()
	if s.pos >= len(s.in) {
		return false, false
	}
	switch s.in[s.pos] {
	case ',':
		s.pos++
		return false, true
	case closing:
		s.pos++
		return true, true
	}
	return false, false
}

func (s *jsonScanner) str() (string, bool) {
	start := s.pos + 1
	for i := start; i < len(s.in); i++ {
		switch c := s.in[i]; {
		case c == '"':
			s.pos = i + 1
			return string(s.in[start:i]), true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return "", false
		}
	}
	return "", false
}

func (s *jsonScanner) integer() bool {
	if s.in[s.pos] == '-' {
		s.pos++
	}
	start := s.pos
	for s.pos < len(s.in) && s.in[s.pos] >= '0' && s.in[s.pos] <= '9' {
		s.pos++
	}
	n := s.pos - start
	if n == 0 || n > 15 || n > 1 && s.in[start] == '0' {
		return false
	}
	// A fraction or exponent is left to the YAML path.
	return s.pos == len(s.in) || s.in[s.pos] != '.' && s.in[s.pos] != 'e' && s.in[s.pos] != 'E'
}
