// Package policies holds one world file per traffic policy, each a
// complete, working example the README points to. The package's test
// loads every file and translates it for a gateway in cluster-1, so an
// example that stops working (or produces a diagnostic) fails the build.
//
// Try one with: causeway translate --world examples/policies/<file>.yaml
// --cluster cluster-1 --all-gateways
package policies
