// Package admin serves Causeway's debug endpoints on the admin listener
// (`causeway serve --admin-address`, 127.0.0.1:9092 by default), apart from
// xDS and from /metrics: what they show (node ids, versions, NACK
// messages) is for operators, who reach it on the host or with
// `kubectl port-forward deploy/causeway 9092`. Responses are JSON; Client
// reads them for the CLI.
//
// Endpoints:
//
//   - GET /debug/proxies: every open ADS stream (proxies.go), with per
//     resource type the last response sent, ACKed and NACKed and whether
//     the proxy holds what Causeway would send it now.
//   - GET /debug/proxies/{node}: the streams of one node; 404 when none.
//
// A node with several streams (a reconnect whose old stream has not ended
// yet, or Envoys sharing a node id) is shown once per stream, newest
// first: which stream is current is not for the admin server to guess.
package admin
