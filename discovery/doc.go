// Package discovery holds the sources that feed Causeway's model: each
// subpackage turns some outside description of the world (a file, later
// Kubernetes API servers) into model snapshots published to a model.Store.
package discovery
