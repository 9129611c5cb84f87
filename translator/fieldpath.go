package translator

import "strconv"

// Diagnostic field paths are built for every rule, match and backendRef
// of every route, error or not; these builders avoid fmt on that path.

// ruleFields are the first rules' field paths, built once.
var ruleFields = func() []string {
	out := make([]string, 16)
	for i := range out {
		out[i] = fieldIndex("spec.rules", i)
	}
	return out
}()

// ruleField is "spec.rules[i]".
func ruleField(i int) string {
	if i < len(ruleFields) {
		return ruleFields[i]
	}
	return fieldIndex("spec.rules", i)
}

// fieldIndex is "field[i]".
func fieldIndex(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

// subField is "field.name[i]".
func subField(field, name string, i int) string {
	return field + "." + name + "[" + strconv.Itoa(i) + "]"
}
