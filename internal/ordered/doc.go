// Package ordered runs independent steps of a sequence on all CPUs while
// their results are used in sequence order: offline translate parses
// manifest documents and renders resources this way, so its output and
// error messages are those of a sequential run.
package ordered
