package xds

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/model"
)

// TokenReviewer checks a Kubernetes service-account token with the
// TokenReview API of the named cluster's apiserver. It is how proxies that
// carry no client certificate (only their pod's projected token)
// authenticate; discovery/kube's Controller implements it.
type TokenReviewer interface {
	// Review returns the authenticated username, e.g.
	// "system:serviceaccount:causeway-system:causeway-gateway", or an error
	// when the cluster is unknown or its apiserver does not accept token.
	Review(ctx context.Context, cluster, token string) (username string, err error)
}

// TokenReviewFunc adapts a function, e.g. (*kube.Controller).ReviewToken,
// to TokenReviewer.
type TokenReviewFunc func(ctx context.Context, cluster, token string) (string, error)

// Review calls f.
func (f TokenReviewFunc) Review(ctx context.Context, cluster, token string) (string, error) {
	return f(ctx, cluster, token)
}

// Reasons of causeway_xds_auth_failures_total.
const (
	reasonNoCredential     = "no_credential"     // neither a client certificate nor a bearer token
	reasonBadCredential    = "bad_credential"    // malformed header, token auth off, not a proxy identity
	reasonTokenRejected    = "token_rejected"    // the claimed cluster's apiserver did not accept the token
	reasonIdentityMismatch = "identity_mismatch" // the node claims another role or cluster than the credential
	reasonInvalidNode      = "invalid_node"      // no node, or node metadata without a valid role and cluster
	reasonNodeChanged      = "node_changed"      // a later request on the stream carried another node
	reasonStreamLimit      = "stream_limit"      // too many open streams for the identity
)

// credential is what a stream presented before its first request: a
// verified client certificate's proxy identity, or a bearer token still to
// be reviewed against the cluster the node claims.
type credential struct {
	spiffeID      string // certificate: its URI SAN
	role, cluster string // certificate: parsed from spiffeID
	token         string // bearer token (when there is no certificate)
}

// identity is an authenticated proxy: which class it may ask for, and the
// key its streams are counted under.
type identity struct {
	role, cluster string
	key           string // SPIFFE ID, or kube:<cluster>:<username>
}

// authError is a refusal with its gRPC status and metric reason.
type authError struct {
	reason string
	st     *status.Status
}

func (e *authError) Error() string              { return e.st.Err().Error() }
func (e *authError) GRPCStatus() *status.Status { return e.st }

func refuse(reason string, code codes.Code, format string, args ...any) *authError {
	return &authError{reason: reason, st: status.Newf(code, format, args...)}
}

const noCredentialHelp = "present a client certificate issued by Causeway's CA (causeway certs issue), or in Kubernetes mode " +
	"an \"authorization: Bearer <service-account token>\" header; plaintext without authentication is only served with --xds-insecure"

// credentialOf extracts the stream's credential. A verified client
// certificate wins over a token: TLS already checked it chains to the trust
// roots (tls.VerifyClientCertIfGiven), so only its identity is checked here.
func (s *Server) credentialOf(ctx context.Context) (*credential, *authError) {
	if p, ok := peer.FromContext(ctx); ok {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.VerifiedChains) > 0 && len(ti.State.VerifiedChains[0]) > 0 {
			return s.certCredential(ti.State.VerifiedChains[0][0].URIs)
		}
	}
	vals := metadata.ValueFromIncomingContext(ctx, "authorization")
	switch {
	case len(vals) == 0:
		return nil, refuse(reasonNoCredential, codes.Unauthenticated, "no client credential: %s", noCredentialHelp)
	case len(vals) > 1:
		return nil, refuse(reasonBadCredential, codes.Unauthenticated, "%d authorization headers; send one", len(vals))
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(vals[0]), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, refuse(reasonBadCredential, codes.Unauthenticated, "authorization header is not \"Bearer <token>\"")
	}
	if s.reviewer == nil {
		return nil, refuse(reasonBadCredential, codes.Unauthenticated,
			"bearer token given but token authentication is off (it needs Kubernetes mode); present a client certificate issued by Causeway's CA")
	}
	return &credential{token: token}, nil
}

func (s *Server) certCredential(uris []*url.URL) (*credential, *authError) {
	if len(uris) != 1 {
		return nil, refuse(reasonBadCredential, codes.PermissionDenied,
			"client certificate has %d URI SANs; a proxy certificate has exactly one, its SPIFFE identity", len(uris))
	}
	id := uris[0].String()
	if td := ca.TrustDomainOf(id); td != s.ca.TrustDomain() {
		return nil, refuse(reasonBadCredential, codes.PermissionDenied,
			"client certificate identity %s is not in trust domain %q", id, s.ca.TrustDomain())
	}
	cluster, role, err := ca.ParseProxyID(id)
	if err != nil {
		return nil, refuse(reasonBadCredential, codes.PermissionDenied, "client certificate: %v", err)
	}
	return &credential{spiffeID: id, role: role, cluster: cluster}, nil
}

// serviceAccountPrefix starts the username of a Kubernetes service account.
const serviceAccountPrefix = "system:serviceaccount:"

// authorize binds the stream's first node to its credential: the node's
// role and cluster must be the credential's. A token is reviewed by the
// apiserver of the cluster the node claims, so that cluster is proven by
// the review and the role by the service account name.
func (s *Server) authorize(ctx context.Context, cred *credential, node *corev3.Node) (identity, *authError) {
	if node == nil {
		return identity{}, refuse(reasonInvalidNode, codes.InvalidArgument, "the first request of a stream must carry the node")
	}
	p, err := model.ProxyFromNode(node, nil)
	if err != nil {
		return identity{}, refuse(reasonInvalidNode, codes.InvalidArgument, "node %q: %s", clip(node.GetId()), clip(err.Error()))
	}
	claim := clip(fmt.Sprintf("%s/%s", p.Role, p.Cluster))
	if cred.token == "" {
		if string(p.Role) != cred.role || p.Cluster != cred.cluster {
			return identity{}, refuse(reasonIdentityMismatch, codes.PermissionDenied,
				"node %q claims %s but the credential is %s (%s/%s)", clip(node.GetId()), claim, cred.spiffeID, cred.role, cred.cluster)
		}
		return identity{role: cred.role, cluster: cred.cluster, key: cred.spiffeID}, nil
	}
	user, err := s.reviewer.Review(ctx, p.Cluster, cred.token)
	if err != nil {
		return identity{}, refuse(reasonTokenRejected, codes.Unauthenticated,
			"node %q claims cluster %q, whose apiserver did not accept the bearer token: %s", clip(node.GetId()), clip(p.Cluster), clip(err.Error()))
	}
	want := serviceAccountPrefix + s.proxyNamespace + ":" + ca.ServiceAccountPrefix + string(p.Role)
	if user != want && !provisionedGatewayAccount(user, s.proxyNamespace, p) {
		return identity{}, refuse(reasonIdentityMismatch, codes.PermissionDenied,
			"node %q claims %s but the credential is the token of %s in cluster %q; %s proxies authenticate as %s",
			clip(node.GetId()), claim, clip(user), clip(p.Cluster), p.Role, want)
	}
	return identity{role: string(p.Role), cluster: p.Cluster, key: "kube:" + p.Cluster + ":" + user}, nil
}

// acquire counts a stream against its identity's limit; release undoes it.
func (s *Server) acquire(key string) (release func(), _ *authError) {
	s.amu.Lock()
	defer s.amu.Unlock()
	if s.perIdentity[key] >= s.maxStreams {
		return nil, refuse(reasonStreamLimit, codes.ResourceExhausted,
			"%s already has %d open xDS streams, the limit (--xds-max-streams-per-client)", key, s.maxStreams)
	}
	s.perIdentity[key]++
	return func() {
		s.amu.Lock()
		defer s.amu.Unlock()
		if s.perIdentity[key]--; s.perIdentity[key] <= 0 {
			delete(s.perIdentity, key)
		}
	}, nil
}

// describeNode names a node and the class it claims, for refusals.
func describeNode(n *corev3.Node) string {
	p, _ := model.ProxyFromNode(n, nil)
	return fmt.Sprintf("node %q (%s)", clip(n.GetId()), clip(fmt.Sprintf("%s/%s", p.Role, p.Cluster)))
}

// provisionedGatewayAccount reports whether user is the ServiceAccount
// Causeway provisioned (internal/provision) for the Gateway the gateway
// proxy p names: such a token admits proxies of that Gateway only (not
// model.AllGateways).
func provisionedGatewayAccount(user, namespace string, p model.Proxy) bool {
	ns, name, ok := strings.Cut(p.Gateway, "/")
	if p.Role != model.RoleGateway || !ok || ns == "" || name == "" {
		return false
	}
	return user == serviceAccountPrefix+namespace+":"+model.ProvisionedName(ns, name)
}
