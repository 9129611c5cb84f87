// Package bootstrap writes the Envoy bootstrap a Causeway proxy starts
// with: its identity (node id, locality, metadata Causeway reads back with
// model.ProxyFromNode), an admin listener, and delta ADS over HTTP/2 to the
// Causeway xDS server for everything else.
package bootstrap
