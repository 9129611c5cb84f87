package main

import (
	"strings"
)

// The PNG's last section: every row of the table, "figure | target |
// measured", wrapped to the image's width, so the picture carries every
// figure the terminal table does.

const (
	tableLineH = 14
	tableCols  = (pngW - 2*20) / 8
)

func init() {
	// Glyphs the table needs beyond the charts' labels.
	for r, g := range map[rune][5]string{
		'J': {"..#", "..#", "..#", "#.#", "###"}, 'Q': {"###", "#.#", "#.#", "###", "..#"},
		'Z': {"###", "..#", ".#.", "#..", "###"}, ':': {"...", ".#.", "...", ".#.", "..."},
		'%': {"#.#", "..#", ".#.", "#..", "#.#"}, '+': {"...", ".#.", "###", ".#.", "..."},
		'<': {"..#", ".#.", "#..", ".#.", "..#"}, '>': {"#..", ".#.", "..#", ".#.", "#.."},
		'|': {".#.", ".#.", ".#.", ".#.", ".#."}, '*': {"#.#", ".#.", "###", ".#.", "#.#"},
		'[': {"##.", "#..", "#..", "#..", "##."}, ']': {".##", "..#", "..#", "..#", ".##"},
		';': {"...", ".#.", "...", ".#.", "#.."}, '_': {"...", "...", "...", "...", "###"},
		'?': {"###", "..#", ".##", "...", ".#."}, '#': {"#.#", "###", "#.#", "###", "#.#"},
		'\'': {".#.", ".#.", "...", "...", "..."}, '"': {"#.#", "#.#", "...", "...", "..."},
		'!': {".#.", ".#.", ".#.", "...", ".#."}, '&': {".#.", "#.#", ".#.", "#.#", ".##"},
		'~': {"...", "..#", "###", "#..", "..."}, '@': {"###", "#.#", "###", "#..", "###"},
	} {
		font3x5[r] = g
	}
}

// pngText spells s with the font's characters: ≤ as <=, × as X, dashes as
// '-', arrows as ->; anything else unknown as '?'.
func pngText(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch r {
		case '≤':
			b.WriteString("<=")
		case '≥':
			b.WriteString(">=")
		case '×':
			b.WriteByte('X')
		case '–', '—', '−':
			b.WriteByte('-')
		case '→':
			b.WriteString("->")
		case '·':
			b.WriteByte('.')
		case 'µ':
			b.WriteByte('U')
		case ' ':
			b.WriteByte(' ')
		default:
			if _, ok := font3x5[r]; ok {
				b.WriteRune(r)
			} else {
				b.WriteByte('?')
			}
		}
	}
	return b.String()
}

// tableLines are the rows as wrapped lines; a row's continuation lines
// are indented.
func tableLines(rows []row) []string {
	out := []string{"FIGURE | TARGET | MEASURED"}
	for _, x := range rows {
		out = append(out, wrap(pngText(x.figure+" | "+x.target+" | "+x.measured), tableCols, "    ")...)
	}
	return out
}

// wrap breaks s at spaces into lines of at most width characters (a longer
// word is cut), continuation lines prefixed by indent.
func wrap(s string, width int, indent string) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		prefix := ""
		if len(lines) > 0 {
			prefix = indent
		}
		switch {
		case line == "":
			line = prefix + w
		case len(line)+1+len(w) <= width:
			line += " " + w
			continue
		default:
			lines = append(lines, line)
			line = indent + w
		}
		for len(line) > width {
			lines = append(lines, line[:width])
			line = indent + line[width:]
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

func tableH(lines []string) int { return len(lines)*tableLineH + 30 }

func drawTable(c canvas, lines []string, top int) {
	for i, l := range lines {
		col := black
		if i == 0 {
			col = blue
		}
		c.text(20, top+10+i*tableLineH, l, col)
	}
}
