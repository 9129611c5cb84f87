package onboard

import (
	"context"
	"errors"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// FieldManager is the server-side apply field manager of everything the
// command writes, in both clusters.
const FieldManager = "causeway-create-remote-secret"

// WorkloadOptions say what to create in the workload cluster.
type WorkloadOptions struct {
	// Provisioner includes provisioner.yaml (serve --provision, the
	// default, deploys Gateway proxies in the workload cluster).
	Provisioner bool
	// TokenDuration > 0 asks the TokenRequest API for a token valid this
	// long instead of using the long-lived token Secret of token.yaml.
	TokenDuration time.Duration
	// TokenTimeout bounds the wait for the token controller to fill the
	// token Secret.
	TokenTimeout time.Duration
}

// Credentials are what the management cluster's kubeconfig needs.
type Credentials struct {
	// ServiceAccount is namespace/name of the identity the token is of.
	ServiceAccount string
	Token          string
	// CA is the token Secret's ca.crt (empty with TokenRequest: the
	// caller falls back to its kubeconfig's CA).
	CA []byte
	// Expires is zero for the long-lived token.
	Expires time.Time
	// Applied lists the objects applied, as Object.Describe names them.
	Applied []string
}

// PrepareWorkload applies the workload-cluster manifests by server-side
// apply (idempotent: running it again changes nothing, and the token
// Secret, hence the token, stays) and returns a token of their
// ServiceAccount.
func PrepareWorkload(ctx context.Context, dyn dynamic.Interface, client kubernetes.Interface, opts WorkloadOptions) (Credentials, error) {
	skip := []string{}
	if !opts.Provisioner {
		skip = append(skip, ProvisionerFile)
	}
	if opts.TokenDuration > 0 {
		skip = append(skip, TokenFile)
	}
	objs, err := Manifests(skip...)
	if err != nil {
		return Credentials{}, err
	}
	sa, tokenSecret, err := identity(objs)
	if err != nil {
		return Credentials{}, err
	}
	var creds Credentials
	creds.ServiceAccount = sa.GetNamespace() + "/" + sa.GetName()
	for _, o := range objs {
		_, err := dyn.Resource(o.Resource).Namespace(o.GetNamespace()).Apply(ctx, o.GetName(), o.Unstructured,
			metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
		if err != nil {
			return Credentials{}, fmt.Errorf("apply %s (%s): %w", o.Describe(), o.File, err)
		}
		creds.Applied = append(creds.Applied, o.Describe())
	}
	if opts.TokenDuration > 0 {
		return requestToken(ctx, client, sa, opts.TokenDuration, creds)
	}
	return awaitTokenSecret(ctx, client, tokenSecret, opts.TokenTimeout, creds)
}

// identity finds the ServiceAccount and, unless left out, the token
// Secret among objs: from the manifests, so a rename there follows here.
func identity(objs []Object) (sa, tokenSecret *Object, err error) {
	for i, o := range objs {
		switch {
		case o.GetKind() == "ServiceAccount":
			if sa != nil {
				return nil, nil, fmt.Errorf("%s and %s: want one ServiceAccount", sa.Describe(), o.Describe())
			}
			sa = &objs[i]
		case o.GetKind() == "Secret":
			tokenSecret = &objs[i]
		}
	}
	if sa == nil {
		return nil, nil, errors.New("workload-cluster manifests hold no ServiceAccount")
	}
	return sa, tokenSecret, nil
}

func requestToken(ctx context.Context, client kubernetes.Interface, sa *Object, d time.Duration, creds Credentials) (Credentials, error) {
	secs := int64(d / time.Second)
	tr, err := client.CoreV1().ServiceAccounts(sa.GetNamespace()).CreateToken(ctx, sa.GetName(),
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &secs}},
		metav1.CreateOptions{FieldManager: FieldManager})
	if err != nil {
		return Credentials{}, fmt.Errorf("TokenRequest for %s: %w", sa.Describe(), err)
	}
	creds.Token = tr.Status.Token
	creds.Expires = tr.Status.ExpirationTimestamp.Time
	if creds.Token == "" {
		return Credentials{}, fmt.Errorf("TokenRequest for %s: the API server returned no token", sa.Describe())
	}
	return creds, nil
}

// awaitTokenSecret waits until the token controller (in
// kube-controller-manager) has filled data.token of the token Secret.
func awaitTokenSecret(ctx context.Context, client kubernetes.Interface, s *Object, timeout time.Duration, creds Credentials) (Credentials, error) {
	if s == nil {
		return Credentials{}, errors.New("workload-cluster manifests hold no token Secret")
	}
	var last *corev1.Secret
	var transient error // the last read that failed without an answer from the API server
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		got, err := client.CoreV1().Secrets(s.GetNamespace()).Get(ctx, s.GetName(), metav1.GetOptions{})
		var status apierrors.APIStatus
		switch {
		case errors.As(err, &status):
			return false, err // the API server said no (not found, forbidden...): final
		case err != nil:
			// No answer (connection, or the rate limiter at the
			// deadline): try again until the timeout.
			transient = err
			return false, nil
		}
		last = got
		return len(got.Data[corev1.ServiceAccountTokenKey]) > 0, nil
	})
	if err != nil {
		var status apierrors.APIStatus
		if errors.As(err, &status) {
			return Credentials{}, fmt.Errorf("read %s: %w", s.Describe(), err)
		}
		if last == nil && transient != nil {
			return Credentials{}, fmt.Errorf("read %s: no answer within %v: %w", s.Describe(), timeout, transient)
		}
		return Credentials{}, fmt.Errorf("%s: data.%s still empty after %v: the token controller of kube-controller-manager fills it; "+
			"check that it runs (with --service-account-private-key-file), or use --token-duration for a TokenRequest token", s.Describe(), corev1.ServiceAccountTokenKey, timeout)
	}
	creds.Token = string(last.Data[corev1.ServiceAccountTokenKey])
	creds.CA = last.Data[corev1.ServiceAccountRootCAKey]
	return creds, nil
}
