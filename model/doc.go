// Package model is Causeway's in-memory service model: clusters, services with
// their endpoints, VirtualDestinations, Gateway API objects and the identity of
// the proxy asking for configuration.
//
// Readers hold an immutable *Snapshot; writers build a new one with
// NewSnapshot (or, knowing that only some Services or VirtualDestinations
// changed, with Snapshot.With, which shares the rest with the last one) and
// publish it through a Store. Nothing mutates a published
// snapshot, so the translator can read one without locks.
package model
