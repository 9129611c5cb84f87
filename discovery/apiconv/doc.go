// Package apiconv checks Causeway's api/v1alpha1 objects the way the CRDs'
// schema and CEL rules do at admission, and converts the ones the model
// keeps in its own shape (Workspace, VirtualDestination).
//
// Both discovery sources use it: world files and offline manifests never
// meet an API server, and a cluster may run a CRD older than this binary,
// so a bad object must be caught here, reported naming the field, and left
// out rather than reach the translator.
package apiconv
