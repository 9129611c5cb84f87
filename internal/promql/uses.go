package promql

import (
	"fmt"
	"sort"
)

// Selector is one vector selector: a metric name and the label names its
// matchers use (metric{label="..."}).
type Selector struct {
	Metric string
	Labels []string
}

// Grouping is a label list of by, without, on, ignoring, group_left or
// group_right, with the metrics of the expression it applies to: each label
// must exist on at least one of them (on(x) joins two sides that both have
// it; by(le) keeps a label the histogram buckets carry).
type Grouping struct {
	Clause  string
	Labels  []string
	Metrics []string
}

// Uses is what an expression reads.
type Uses struct {
	Selectors []Selector
	Groupings []Grouping
}

// Metrics lists the distinct metric names, sorted.
func (u Uses) Metrics() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range u.Selectors {
		if !seen[s.Metric] {
			seen[s.Metric] = true
			out = append(out, s.Metric)
		}
	}
	sort.Strings(out)
	return out
}

// aggregations take an optional by/without clause before or after their
// parenthesised arguments.
var aggregations = set("sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
	"bottomk", "topk", "quantile", "limitk", "limit_ratio")

// keywords are identifiers that are never metric names.
var keywords = set("and", "or", "unless", "bool", "offset", "atan2", "start", "end")

// groupingClauses are followed by a parenthesised label list (optional for
// group_left and group_right).
var groupingClauses = set("by", "without", "on", "ignoring", "group_left", "group_right")

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Parse returns the selectors and label groupings of expr.
func Parse(expr string) (Uses, error) {
	toks, err := lex(expr)
	if err != nil {
		return Uses{}, err
	}
	w := &walker{toks: toks}
	metrics, err := w.sequence("")
	if err != nil {
		return Uses{}, err
	}
	if w.i != len(toks) {
		return Uses{}, w.errorf("unexpected %q", toks[w.i].text)
	}
	// on/ignoring/group_* apply to the binary operation they sit in; the
	// whole expression is the scope this walk can tell without precedence.
	for i := range w.uses.Groupings {
		if w.uses.Groupings[i].Metrics == nil {
			w.uses.Groupings[i].Metrics = metrics
		}
	}
	if len(w.uses.Selectors) == 0 {
		return Uses{}, fmt.Errorf("no metric selector in %q", expr)
	}
	return w.uses, nil
}

type walker struct {
	toks []token
	i    int
	uses Uses
}

func (w *walker) errorf(format string, args ...any) error {
	pos := -1
	if w.i < len(w.toks) {
		pos = w.toks[w.i].pos
	}
	return fmt.Errorf("offset %d: %s", pos, fmt.Sprintf(format, args...))
}

func (w *walker) peek(kind tokenKind, text string) bool {
	return w.i < len(w.toks) && w.toks[w.i].kind == kind && w.toks[w.i].text == text
}

// sequence walks tokens until the closing punctuation close ("" for the
// end of input), which it consumes, and returns the metric names seen.
func (w *walker) sequence(close string) ([]string, error) {
	var metrics []string
	for w.i < len(w.toks) {
		t := w.toks[w.i]
		switch {
		case t.kind == tokPunct && t.text == close:
			w.i++
			return metrics, nil
		case t.kind == tokPunct && t.text == "(":
			w.i++
			inner, err := w.sequence(")")
			if err != nil {
				return nil, err
			}
			metrics = append(metrics, inner...)
		case t.kind == tokPunct && t.text == "[":
			if err := w.skipRange(); err != nil {
				return nil, err
			}
		case t.kind == tokPunct && t.text == "{":
			return nil, w.errorf("selector without a metric name; write the name before {")
		case t.kind == tokPunct && (t.text == ")" || t.text == "]" || t.text == "}"):
			return nil, w.errorf("unbalanced %q", t.text)
		case t.kind == tokIdent:
			inner, err := w.ident()
			if err != nil {
				return nil, err
			}
			metrics = append(metrics, inner...)
		default: // numbers, strings (count_values, label arguments), operators, ',', ':', '@'
			w.i++
		}
	}
	if close != "" {
		return nil, fmt.Errorf("missing %q at the end", close)
	}
	return metrics, nil
}

// ident handles the identifier at w.i: an aggregation, a function call, a
// keyword, a grouping clause or a metric selector.
func (w *walker) ident() ([]string, error) {
	name := w.toks[w.i].text
	w.i++
	switch {
	case aggregations[name] && (w.peek(tokPunct, "(") || w.peekGroupingClause()):
		var clauses []Grouping
		if w.peekGroupingClause() {
			g, err := w.clause()
			if err != nil {
				return nil, err
			}
			clauses = append(clauses, g)
		}
		if !w.peek(tokPunct, "(") {
			return nil, w.errorf("%s: want (", name)
		}
		w.i++
		inner, err := w.sequence(")")
		if err != nil {
			return nil, err
		}
		if w.peekGroupingClause() {
			g, err := w.clause()
			if err != nil {
				return nil, err
			}
			clauses = append(clauses, g)
		}
		for _, g := range clauses {
			g.Metrics = append([]string{}, inner...)
			w.uses.Groupings = append(w.uses.Groupings, g)
		}
		return inner, nil
	case groupingClauses[name]:
		w.i--
		g, err := w.clause()
		if err != nil {
			return nil, err
		}
		w.uses.Groupings = append(w.uses.Groupings, g) // scope set by Parse
		return nil, nil
	case keywords[name]:
		return nil, nil
	case w.peek(tokPunct, "("): // a function; its arguments are walked by sequence
		return nil, nil
	}
	sel := Selector{Metric: name}
	if w.peek(tokPunct, "{") {
		w.i++
		labels, err := w.matchers()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		sel.Labels = labels
	}
	w.uses.Selectors = append(w.uses.Selectors, sel)
	return []string{name}, nil
}

func (w *walker) peekGroupingClause() bool {
	return w.i < len(w.toks) && w.toks[w.i].kind == tokIdent && groupingClauses[w.toks[w.i].text]
}

// clause reads by/without/on/ignoring/group_left/group_right and its label
// list at w.i.
func (w *walker) clause() (Grouping, error) {
	g := Grouping{Clause: w.toks[w.i].text}
	w.i++
	if !w.peek(tokPunct, "(") {
		if g.Clause == "group_left" || g.Clause == "group_right" {
			return g, nil
		}
		return g, w.errorf("%s: want a label list in ( )", g.Clause)
	}
	w.i++
	for !w.peek(tokPunct, ")") {
		if w.i >= len(w.toks) || w.toks[w.i].kind != tokIdent {
			return g, w.errorf("%s: want a label name", g.Clause)
		}
		g.Labels = append(g.Labels, w.toks[w.i].text)
		w.i++
		if w.peek(tokPunct, ",") {
			w.i++
		}
	}
	w.i++
	return g, nil
}

// matchers reads label="value", ... } after a metric name.
func (w *walker) matchers() ([]string, error) {
	var labels []string
	for !w.peek(tokPunct, "}") {
		if w.i+2 >= len(w.toks) || w.toks[w.i].kind != tokIdent || w.toks[w.i+1].kind != tokOperator || w.toks[w.i+2].kind != tokString {
			return nil, w.errorf("want label=\"value\" matchers")
		}
		switch op := w.toks[w.i+1].text; op {
		case "=", "!=", "=~", "!~":
		default:
			return nil, w.errorf("matcher operator %q", op)
		}
		labels = append(labels, w.toks[w.i].text)
		w.i += 3
		if w.peek(tokPunct, ",") {
			w.i++
		}
	}
	w.i++
	return labels, nil
}

// skipRange skips a range or subquery [5m] / [1h:1m] / [$__rate_interval].
func (w *walker) skipRange() error {
	w.i++
	for w.i < len(w.toks) {
		t := w.toks[w.i]
		w.i++
		if t.kind == tokPunct && t.text == "]" {
			return nil
		}
		if t.kind != tokNumber && !(t.kind == tokPunct && t.text == ":") {
			return fmt.Errorf("offset %d: %q in a range; want a duration", t.pos, t.text)
		}
	}
	return fmt.Errorf("missing ] at the end")
}
