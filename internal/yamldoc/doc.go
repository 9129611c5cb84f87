// Package yamldoc splits a multi-document YAML stream into its documents,
// each with the line it starts on, and points YAML errors at lines of the
// whole stream: what the world file (discovery/file) and plain manifests
// (discovery/kube) both need to report a problem where an editor shows it.
package yamldoc
