package promql

import (
	"fmt"
	"strings"
	"unicode"
)

// tokenKind is the class of a lexed token.
type tokenKind int

const (
	tokIdent    tokenKind = iota // metric, label, function or keyword name
	tokString                    // quoted string, unquoted in text
	tokNumber                    // number or duration (5m, 1.5, 0x1f, 1e3)
	tokPunct                     // ( ) { } [ ] , : @
	tokOperator                  // + - * / % ^ == != > < >= <= =~ !~ =
)

type token struct {
	kind tokenKind
	text string
	pos  int // byte offset in the expression, for errors
}

// lex splits expr into tokens; comments (# to end of line) are dropped.
func lex(expr string) ([]token, error) {
	var toks []token
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			s, n, err := lexString(expr[i:])
			if err != nil {
				return nil, fmt.Errorf("offset %d: %w", i, err)
			}
			toks = append(toks, token{tokString, s, i})
			i += n
		case isIdentStart(c) || c == '$':
			// $name and ${name} are Grafana variables, which appear where a
			// duration or a number would (rate(x[$__rate_interval])).
			j := i + 1
			if c == '$' && j < len(expr) && expr[j] == '{' {
				end := strings.IndexByte(expr[j:], '}')
				if end < 0 {
					return nil, fmt.Errorf("offset %d: unterminated ${", i)
				}
				toks = append(toks, token{tokNumber, expr[i : j+end+1], i})
				i = j + end + 1
				continue
			}
			for j < len(expr) && (isIdentStart(expr[j]) || isDigit(expr[j]) || expr[j] == ':') {
				j++
			}
			kind := tokIdent
			if c == '$' {
				kind = tokNumber
			}
			toks = append(toks, token{kind, expr[i:j], i})
			i = j
		case isDigit(c) || (c == '.' && i+1 < len(expr) && isDigit(expr[i+1])):
			j := i + 1
			for j < len(expr) && (isDigit(expr[j]) || unicode.IsLetter(rune(expr[j])) || expr[j] == '.' ||
				((expr[j] == '+' || expr[j] == '-') && (expr[j-1] == 'e' || expr[j-1] == 'E'))) {
				j++
			}
			toks = append(toks, token{tokNumber, expr[i:j], i})
			i = j
		case strings.IndexByte("(){}[],:@", c) >= 0:
			toks = append(toks, token{tokPunct, string(c), i})
			i++
		default:
			op := ""
			for _, o := range []string{"==", "!=", ">=", "<=", "=~", "!~", "+", "-", "*", "/", "%", "^", ">", "<", "="} {
				if strings.HasPrefix(expr[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("offset %d: unexpected character %q", i, c)
			}
			toks = append(toks, token{tokOperator, op, i})
			i += len(op)
		}
	}
	return toks, nil
}

// lexString reads a quoted string at the start of s and returns its
// content and the bytes consumed. Escapes are kept as written except \" and
// \\, which matter for finding the end; label values are not interpreted.
func lexString(s string) (string, int, error) {
	quote := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == quote:
			return b.String(), i + 1, nil
		case c == '\\' && quote != '`' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '\n' && quote != '`':
			return "", 0, fmt.Errorf("newline in string")
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated string")
}

func isIdentStart(c byte) bool { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
