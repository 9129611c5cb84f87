package kube

import (
	"context"
	"fmt"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// reviewTimeout bounds one TokenReview: an xDS stream waits on it before it
// is served, and a hung apiserver must not hold streams open forever.
const reviewTimeout = 10 * time.Second

// ReviewToken checks a service-account token with the TokenReview API
// (authentication.k8s.io/v1) of the named workload cluster's apiserver and
// returns the username it authenticates as, e.g.
// "system:serviceaccount:causeway-system:causeway-gateway".
//
// Only the named cluster is asked: a token is proof of identity in the
// cluster whose apiserver accepts it, so a proxy cannot borrow another
// cluster's name. The review is sent with the cluster's own credentials
// (its kubeconfig from the clusters file or cluster Secret), which need
// "create" on tokenreviews.authentication.k8s.io there (the built-in
// system:auth-delegator ClusterRole grants it).
//
// Audiences are left empty, so the apiserver checks the token against its
// own API audiences (by default its service-account issuer): a plain
// projected or TokenRequest token for the apiserver passes, and a token
// minted for another audience (say, a vault or cloud IAM audience) does not
// double as an xDS credential.
//
// It implements xds.TokenReviewer through xds.TokenReviewFunc (this package
// does not import xds). Errors name the cluster: unknown (not configured, or
// the controller not running yet), the review failing, or the token not
// authenticated (with the apiserver's reason).
func (c *Controller) ReviewToken(ctx context.Context, cluster, token string) (string, error) {
	client := c.clusterClient(cluster)
	if client == nil {
		return "", fmt.Errorf("token review: cluster %q is not a known workload cluster", cluster)
	}
	if token == "" {
		return "", fmt.Errorf("token review at cluster %q: empty token", cluster)
	}
	ctx, cancel := context.WithTimeout(ctx, reviewTimeout)
	defer cancel()
	tr, err := client.AuthenticationV1().TokenReviews().Create(ctx,
		&authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token review at cluster %q: %w", cluster, err)
	}
	if !tr.Status.Authenticated {
		reason := tr.Status.Error
		if reason == "" {
			reason = "no reason given"
		}
		return "", fmt.Errorf("token review at cluster %q: token not authenticated: %s", cluster, reason)
	}
	if tr.Status.User.Username == "" {
		return "", fmt.Errorf("token review at cluster %q: authenticated without a username", cluster)
	}
	return tr.Status.User.Username, nil
}

// clusterClient returns the active client of a workload cluster, or nil.
// It is safe from any goroutine: the Run loop publishes the clients after
// every reconcile (publishClients).
func (c *Controller) clusterClient(cluster string) kubernetes.Interface {
	m := c.clients.Load()
	if m == nil {
		return nil
	}
	return (*m)[cluster]
}

// publishClients makes the registry's active clients visible to
// clusterClient; nil clears them (Run stopped).
func (c *Controller) publishClients(m map[string]kubernetes.Interface) {
	c.clients.Store(&m)
}
