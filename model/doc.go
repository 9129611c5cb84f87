// Package model is Causeway's in-memory service model: clusters, services with
// their endpoints, VirtualDestinations, Gateway API objects and the identity of
// the proxy asking for configuration.
//
// Readers hold an immutable *Snapshot; writers build a new one with
// NewSnapshot and publish it through a Store. Nothing mutates a published
// snapshot, so the translator can read one without locks.
package model
