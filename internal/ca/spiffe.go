package ca

import (
	"fmt"
	"net/url"
	"strings"
)

// ProxyNamespace is the namespace in every proxy identity: proxies are
// Causeway's own deployments, whatever namespace their pods really run in.
const ProxyNamespace = "causeway-system"

// proxyRoles are the roles a proxy identity may name (model.Role values;
// this package does not import model).
var proxyRoles = map[string]bool{"gateway": true, "eastwest": true, "client": true}

// ServerSpiffeID is the identity of the control plane's xDS serving
// certificate. It has no cluster segment, so ParseProxyID never mistakes
// it for a proxy.
func (c *CA) ServerSpiffeID() string {
	return fmt.Sprintf("spiffe://%s/ns/%s/sa/causeway", c.trustDomain, ProxyNamespace)
}

// ParseProxyID splits a proxy identity
// spiffe://<td>/cluster/<cluster>/ns/causeway-system/sa/causeway-<role>
// (the form SpiffeID issues) into its cluster and role. It does not check
// the trust domain, which is the caller's (TrustDomainOf); anything else,
// including another namespace, service account or an unknown role, is an
// error naming the id, because such a certificate must not be mistaken for
// a proxy's.
func ParseProxyID(id string) (cluster, role string, err error) {
	u, err := url.Parse(id)
	if err != nil {
		return "", "", fmt.Errorf("ca: spiffe id %q: %w", id, err)
	}
	bad := func(why string) error {
		return fmt.Errorf("ca: %q is not a Causeway proxy identity (spiffe://<trust-domain>/cluster/<cluster>/ns/%s/sa/causeway-<gateway|eastwest|client>): %s",
			id, ProxyNamespace, why)
	}
	if u.Scheme != "spiffe" || u.Host == "" || u.User != nil || u.Port() != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", "", bad("not a spiffe://<trust-domain>/... URI")
	}
	seg := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	if len(seg) != 6 || seg[0] != "cluster" || seg[2] != "ns" || seg[4] != "sa" {
		return "", "", bad("path is not /cluster/<cluster>/ns/<ns>/sa/<sa>")
	}
	if seg[1] == "" {
		return "", "", bad("empty cluster")
	}
	if seg[3] != ProxyNamespace {
		return "", "", bad("namespace " + seg[3])
	}
	role, ok := strings.CutPrefix(seg[5], ServiceAccountPrefix)
	if !ok || !proxyRoles[role] {
		return "", "", bad("service account " + seg[5])
	}
	return seg[1], role, nil
}

// TrustDomainOf returns the trust domain (host) of a spiffe:// id, "" if
// id is not one.
func TrustDomainOf(id string) string {
	u, err := url.Parse(id)
	if err != nil || u.Scheme != "spiffe" {
		return ""
	}
	return u.Host
}

// ServiceAccountPrefix starts the service account of every proxy role:
// causeway-gateway, causeway-eastwest, causeway-client.
const ServiceAccountPrefix = "causeway-"
