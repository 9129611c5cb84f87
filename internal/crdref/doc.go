// Package crdref renders a Markdown reference of CustomResourceDefinitions
// from their openAPIV3Schema: per kind and version, every field's path,
// type, whether it is required, its default, enum values, limits, CEL
// rules and description. `make generate` writes api/reference.md with it
// (internal/crdref/gen) right after controller-gen writes api/crds, so the
// reference is what the API server enforces, and `make check-generated`
// fails when it is stale.
package crdref
