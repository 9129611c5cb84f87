package conformance

import (
	"io/fs"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/apis/v1alpha2"
	"sigs.k8s.io/gateway-api/apis/v1alpha3"
	xv1alpha1 "sigs.k8s.io/gateway-api/apisx/v1alpha1"
	gwconformance "sigs.k8s.io/gateway-api/conformance"
	"sigs.k8s.io/gateway-api/conformance/tests"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/features"
)

// Environment variables read by the conformance test.
const (
	// envReport names the file the ConformanceReport goes to; `make
	// conformance` sets it to reports/<version>/causeway.yaml. Unset, the
	// report goes to a temporary file whose path the test prints.
	envReport = "CAUSEWAY_CONFORMANCE_REPORT"
	// envRunTest runs one suite test only (its ShortName), for working on
	// it; the report is then not written.
	envRunTest = "CAUSEWAY_CONFORMANCE_RUN"
)

// TestGatewayAPIConformance runs the upstream suite, unmodified, against
// `causeway serve` on a real cluster (see the package documentation).
// Every test of the GATEWAY-HTTP profile whose features Causeway's
// GatewayClass announces runs, except those in skip.yaml; a failed one
// fails this test. The report and a per-test summary are printed.
func TestGatewayAPIConformance(t *testing.T) {
	start := time.Now()
	skips, err := loadSkipList(skipListFile)
	if err != nil {
		t.Fatal(err)
	}
	e := startEnvironment(t)
	claimed := createGatewayClass(t, e.cluster.Config)
	t.Logf("GatewayClass %s accepted; claimed features: %v", gatewayClassName, claimed)

	if !t.Run("ProvisionedProxy", func(t *testing.T) { checkProvisionedProxy(t, e) }) {
		t.Fatal("the provisioned Envoy does not work end to end; the suite would only repeat that failure")
	}

	rec := newRecorder(skips)
	opts, err := suiteOptions(e.cluster.Config, skips, claimed, rec)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := suite.NewConformanceTestSuite(opts)
	if err != nil {
		t.Fatalf("conformance suite: %v", err)
	}
	suiteStart := time.Now()
	// A subtest, so that its parallel tests are done when t.Run returns
	// and the report below sees every result.
	t.Run("suite", func(t *testing.T) {
		cs.Setup(t, tests.ConformanceTests)
		if err := cs.Run(t, tests.ConformanceTests); err != nil {
			t.Fatal(err)
		}
	})
	suiteWall := time.Since(suiteStart)

	t.Logf("per-test results:\n%s", rec.table(tests.ConformanceTests, claimed))
	if n := e.lb.Errors(); n > 0 {
		t.Errorf("load-balancer stand-in gave up %d times (logged above); results may reflect the harness, not Causeway", n)
	}
	if opts.RunTest == "" {
		writeReport(t, cs)
	}
	t.Logf("conformance suite wall time %v; whole test %v (environment, proxy check, suite, report)",
		suiteWall.Round(time.Second), time.Since(start).Round(time.Second))
}

// suiteOptions are the suite's settings: Causeway's class, the
// GATEWAY-HTTP profile, the skip list, relaxed timeouts, and base and test
// resources cleaned up so the cluster ends as it began.
func suiteOptions(cfg *rest.Config, skips skipList, claimed []features.FeatureName, rec *recorder) (suite.ConformanceOptions, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, gwv1.Install, v1alpha2.Install, v1alpha3.Install, xv1alpha1.Install, apiextensionsv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			return suite.ConformanceOptions{}, err
		}
	}
	// The suite builds a client per test and sets the config's user
	// agent: give it a copy.
	cfg = rest.CopyConfig(cfg)
	opts := client.Options{Scheme: scheme}
	c, err := client.New(cfg, opts)
	if err != nil {
		return suite.ConformanceOptions{}, err
	}
	cset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return suite.ConformanceOptions{}, err
	}
	// controller-runtime complains, with a stack trace, when nobody set
	// its logger; the suite logs through t.
	ctrllog.SetLogger(logr.Discard())

	o := suite.ConformanceOptions{
		ConfigurableOptions: suite.ConfigurableOptions{
			GatewayClassName:     gatewayClassName,
			CleanupBaseResources: true,
			CleanupTestResources: true,
			SkipTests:            skips.Names(),
			ConformanceProfiles:  []suite.ConformanceProfileName{suite.GatewayHTTPConformanceProfileName},
			Implementation:       implementation(),
			TimeoutConfig:        timeouts(),
			RunTest:              os.Getenv(envRunTest),
		},
		Client:        c,
		ClientOptions: opts,
		Clientset:     cset,
		RestConfig:    cfg,
		ManifestFS:    []fs.FS{&gwconformance.Manifests},
		Hook:          rec.hook,
	}
	// Without SupportedFeatures the suite reads them from the class status
	// (reported as inferred), except when one test is chosen: then they
	// are given, from the same status.
	if o.RunTest != "" {
		o.SupportedFeatures = claimed
	}
	return o, nil
}
