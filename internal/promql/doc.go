// Package promql reads the metric names and label names a PromQL expression
// uses, so a test can check dashboards and alert rules against the metrics
// `causeway serve` exports. It is a small lexer and a structural walk, not a
// full parser: github.com/prometheus/prometheus/promql/parser would upgrade
// the Kubernetes, Envoy and gRPC modules the project pins. What it accepts
// is what the files in examples/observability use; anything else (a selector
// without a metric name, an unbalanced bracket, an unknown token) is an
// error rather than a guess.
package promql
