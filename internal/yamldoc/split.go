package yamldoc

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
)

// Document is one document of a stream.
type Document struct {
	Data []byte
	Line int // 1-based line of the document's first line in the stream
}

// Split splits a YAML stream at "---" lines (a separator may be followed
// by a comment) and remembers where each document starts so that syntax
// errors can point at a line. A document is its lines, each ended by "\n"
// and without a "\r" before it; most documents are already exactly that
// in data and are not copied (so they share data's bytes).
func Split(data []byte) []Document {
	var docs []Document
	start, first := 0, 1 // the current document's offset and first line
	exact := true        // data[start:pos] is the document as defined above
	line := 0
	for pos := 0; pos < len(data); {
		line++
		text, next := data[pos:], len(data)
		i := bytes.IndexByte(text, '\n')
		if i >= 0 {
			text, next = text[:i], pos+i+1
		}
		cr := len(text) > 0 && text[len(text)-1] == '\r'
		if cr {
			text = text[:len(text)-1]
		}
		if isSeparator(text) {
			docs = append(docs, documentAt(data, start, pos, first, exact))
			start, first, exact = next, line+1, true
		} else {
			exact = exact && i >= 0 && !cr
		}
		pos = next
	}
	return append(docs, documentAt(data, start, len(data), first, exact))
}

// documentAt is the document whose lines are data[start:end].
func documentAt(data []byte, start, end, first int, exact bool) Document {
	if exact {
		return Document{Data: data[start:end:end], Line: first}
	}
	return Document{Data: normalizeLines(data[start:end]), Line: first}
}

// normalizeLines ends every line with a bare "\n": a final line without
// one gets it, and one "\r" before a "\n" goes (as bufio.ScanLines reads lines).
func normalizeLines(text []byte) []byte {
	var out []byte
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		out = append(out, line...)
		out = append(out, '\n')
	}
	return out
}

func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := bytes.TrimSpace(line[3:])
	return len(rest) == 0 || rest[0] == '#'
}

var yamlLine = regexp.MustCompile(`\bline (\d+):`)

// FileLines rewrites "line N:" in a YAML error, counted from the first
// line of a document starting at firstLine, into the line of the stream,
// which is what an editor shows.
func FileLines(msg string, firstLine int) string {
	return yamlLine.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(yamlLine.FindStringSubmatch(m)[1])
		return fmt.Sprintf("line %d:", n+firstLine-1)
	})
}
