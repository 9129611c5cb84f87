package translator

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

func TestFailoverRankingLevels(t *testing.T) {
	proxy := model.Locality{Region: "us-east", Zone: "us-east-1a"}
	eastA := model.Locality{Region: "us-east", Zone: "us-east-1a"}
	eastB := model.Locality{Region: "us-east", Zone: "us-east-1b"}
	euA := model.Locality{Region: "eu-west", Zone: "eu-west-1a"}
	euB := model.Locality{Region: "eu-west", Zone: "eu-west-1b"}
	west := model.Locality{Region: "us-west", Zone: "us-west-1a"}
	ap := model.Locality{Region: "ap-south", Zone: "ap-south-1a"}
	none := model.Locality{}
	ordered := &v1alpha1.LocalityMapping{
		From: v1alpha1.Locality{Region: "us-east"},
		To:   []v1alpha1.WeightedLocality{{Region: "eu-west"}, {Region: "us-west"}},
	}
	zoned := &v1alpha1.LocalityMapping{
		From: v1alpha1.Locality{Region: "us-east"},
		To:   []v1alpha1.WeightedLocality{{Region: "eu-west", Zone: "eu-west-1b"}},
	}
	weighted := &v1alpha1.LocalityMapping{
		From: v1alpha1.Locality{Region: "us-east"},
		To:   []v1alpha1.WeightedLocality{{Region: "eu-west", Weight: 3}, {Region: "us-west"}},
	}
	type lw struct{ level, weight uint32 }
	for _, tc := range []struct {
		name    string
		mapping *v1alpha1.LocalityMapping
		want    map[model.Locality]lw
	}{
		{"no mapping is PreferClose", nil, map[model.Locality]lw{
			eastA: {0, 1}, eastB: {2, 1}, euA: {3, 1}, west: {3, 1}, none: {3, 1},
		}},
		{"targets in list order, then the rest", ordered, map[model.Locality]lw{
			eastA: {0, 1}, eastB: {2, 1}, euA: {3, 1}, euB: {3, 1}, west: {4, 1}, ap: {5, 1}, none: {5, 1},
		}},
		{"every given field must match", zoned, map[model.Locality]lw{
			euA: {4, 1}, euB: {3, 1}, west: {4, 1},
		}},
		{"weights share one level and multiply", weighted, map[model.Locality]lw{
			eastA: {0, 1}, eastB: {2, 1}, euA: {3, 3}, euB: {3, 3}, west: {3, 1}, ap: {4, 1}, none: {4, 1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := failoverRanking{proxy: proxy, mapping: tc.mapping}
			for l, want := range tc.want {
				if got := (lw{f.level(l), f.weight(l)}); got != want {
					t.Errorf("%v: (level, weight) = %v, want %v", l, got, want)
				}
			}
		})
	}
}

func TestMatchingMapping(t *testing.T) {
	ms := []v1alpha1.LocalityMapping{
		{From: v1alpha1.Locality{Region: "us-east", Zone: "us-east-1b"}, To: []v1alpha1.WeightedLocality{{Region: "a"}}},
		{From: v1alpha1.Locality{Region: "us-east"}, To: []v1alpha1.WeightedLocality{{Region: "b"}}},
	}
	for _, tc := range []struct {
		proxy model.Locality
		want  string // first target region, "" for none
	}{
		{model.Locality{Region: "us-east", Zone: "us-east-1b"}, "a"},
		{model.Locality{Region: "us-east", Zone: "us-east-1a"}, "b"},
		{model.Locality{Region: "eu-west"}, ""},
	} {
		got := ""
		if m := matchingMapping(ms, tc.proxy); m != nil {
			got = m.To[0].Region
		}
		if got != tc.want {
			t.Errorf("proxy %v: mapping to %q, want %q", tc.proxy, got, tc.want)
		}
	}
}

func TestLabelRank(t *testing.T) {
	proxy := labelSet{cluster: "cluster-1", locality: model.Locality{Region: "us-east", Zone: "us-east-1a"}}
	keys := []string{model.SubsetClusterLabel, "version=v2", regionLabel}
	for _, tc := range []struct {
		name string
		ep   labelSet
		want uint32
	}{
		{"all match", labelSet{cluster: "cluster-1", own: map[string]string{"version": "v2"}, locality: model.Locality{Region: "us-east"}}, 0},
		{"fixed value from the Service", labelSet{cluster: "cluster-1", parent: map[string]string{"version": "v2"}, locality: model.Locality{Region: "eu"}}, 1},
		{"own label beats the Service's", labelSet{cluster: "cluster-1", own: map[string]string{"version": "v1"}, parent: map[string]string{"version": "v2"}}, 2},
		{"first key differs", labelSet{cluster: "cluster-2", own: map[string]string{"version": "v2"}, locality: model.Locality{Region: "us-east"}}, 3},
		{"implicit key beats an explicit label", labelSet{cluster: "cluster-2", own: map[string]string{model.SubsetClusterLabel: "cluster-1"}}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := labelRank(keys, proxy, tc.ep); got != tc.want {
				t.Errorf("labelRank = %d, want %d", got, tc.want)
			}
		})
	}
	// A plain key the proxy does not have matches nothing.
	if got := labelRank([]string{"version"}, proxy, labelSet{own: map[string]string{"version": "v1"}}); got != 1 {
		t.Errorf("key missing on the proxy: rank %d, want 1", got)
	}
}

func TestApplyOutlier(t *testing.T) {
	five := int32(7)
	pct := int32(50)
	for _, tc := range []struct {
		name string
		cfg  v1alpha1.OutlierDetectionConfig
		want *clusterv3.OutlierDetection
	}{
		{"defaults", v1alpha1.OutlierDetectionConfig{}, outlierWant(5, 10*time.Second, 30*time.Second, 300*time.Second, 100)},
		{"explicit", v1alpha1.OutlierDetectionConfig{
			ConsecutiveErrors: &five, Interval: &metav1.Duration{Duration: 2 * time.Second},
			BaseEjectionTime: &metav1.Duration{Duration: 10 * time.Minute}, MaxEjectionPercent: &pct,
		}, outlierWant(7, 2*time.Second, 10*time.Minute, 10*time.Minute, 50)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Resources{}
			op := &model.OutlierDetectionPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}}
			op.Spec.Config = tc.cfg
			c := edsCluster("c", model.Proxy{})
			applyOutlier(c, validOutlier(op, r))
			if diff := cmp.Diff(tc.want, c.OutlierDetection, protocmp.Transform()); diff != "" {
				t.Errorf("outlier_detection (-want +got):\n%s", diff)
			}
			if got := c.GetCommonLbConfig().GetHealthyPanicThreshold(); got == nil || got.GetValue() != 0 {
				t.Errorf("healthy_panic_threshold = %v, want explicit 0", got)
			}
			if c.GetCommonLbConfig().GetLocalityWeightedLbConfig() == nil {
				t.Error("locality_weighted_lb_config was dropped")
			}
			if len(r.Diagnostics) != 0 {
				t.Errorf("unexpected diagnostics: %v", r.Diagnostics)
			}
		})
	}
}

func outlierWant(errs uint32, interval, base, maxTime time.Duration, pct uint32) *clusterv3.OutlierDetection {
	return &clusterv3.OutlierDetection{
		Consecutive_5Xx:                        wrapperspb.UInt32(errs),
		EnforcingConsecutive_5Xx:               wrapperspb.UInt32(100),
		ConsecutiveGatewayFailure:              wrapperspb.UInt32(errs),
		EnforcingConsecutiveGatewayFailure:     wrapperspb.UInt32(100),
		Interval:                               durationpb.New(interval),
		BaseEjectionTime:                       durationpb.New(base),
		MaxEjectionTime:                        durationpb.New(maxTime),
		MaxEjectionPercent:                     wrapperspb.UInt32(pct),
		EnforcingSuccessRate:                   wrapperspb.UInt32(0),
		EnforcingFailurePercentage:             wrapperspb.UInt32(0),
		EnforcingFailurePercentageLocalOrigin:  wrapperspb.UInt32(0),
		EnforcingConsecutiveLocalOriginFailure: wrapperspb.UInt32(0),
		EnforcingLocalOriginSuccessRate:        wrapperspb.UInt32(0),
	}
}

func TestValidOutlierReplacesBadFields(t *testing.T) {
	zero := int32(0)
	big := int32(101)
	op := &model.OutlierDetectionPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}}
	op.Spec.Config = v1alpha1.OutlierDetectionConfig{
		ConsecutiveErrors: &zero, Interval: &metav1.Duration{Duration: -time.Second},
		BaseEjectionTime: &metav1.Duration{}, MaxEjectionPercent: &big,
	}
	r := &Resources{}
	cfg := validOutlier(op, r)
	if cfg.ConsecutiveErrorsOrDefault() != 5 || cfg.IntervalOrDefault() != 10*time.Second ||
		cfg.BaseEjectionTimeOrDefault() != 30*time.Second || cfg.MaxEjectionPercentOrDefault() != 100 {
		t.Errorf("config not defaulted: %+v", cfg)
	}
	var fields []string
	for _, d := range r.Diagnostics {
		fields = append(fields, d.Field)
	}
	want := []string{"spec.config.consecutiveErrors", "spec.config.interval", "spec.config.baseEjectionTime", "spec.config.maxEjectionPercent"}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("diagnostic fields (-want +got):\n%s", diff)
	}
}

func TestIndexPoliciesOlderWins(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Hour))
	fp := func(name string, ts metav1.Time, region string) *model.FailoverPolicy {
		p := &model.FailoverPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, CreationTimestamp: ts}}
		p.Spec.ApplyToDestinations = []v1alpha1.DestinationSelector{{Selector: v1alpha1.ObjectSelector{Labels: map[string]string{"app": "reviews"}}}}
		p.Spec.Config.LocalityMappings = []v1alpha1.LocalityMapping{{From: v1alpha1.Locality{Region: "us-east"}, To: []v1alpha1.WeightedLocality{{Region: region}}}}
		return p
	}
	w := model.NewSnapshot(model.World{
		VirtualDestinations: []model.VirtualDestination{
			{Namespace: "ns", Name: "reviews", Labels: map[string]string{"app": "reviews"}},
			{Namespace: "other", Name: "reviews", Labels: map[string]string{"app": "reviews"}},
		},
		// "a-newer" sorts first by name but is younger: "z-older" must win.
		FailoverPolicies: []*model.FailoverPolicy{fp("a-newer", t1, "us-west"), fp("z-older", t0, "eu-west")},
		OutlierDetectionPolicies: []*model.OutlierDetectionPolicy{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "nothing"},
			Spec:       v1alpha1.OutlierDetectionPolicySpec{ApplyToDestinations: []v1alpha1.DestinationSelector{{Selector: v1alpha1.ObjectSelector{Name: "ratings"}}}},
		}},
	})
	r := &Resources{}
	idx := indexPolicies(w, model.Locality{Region: "us-east"}, r)
	vd := &w.VirtualDestinations()[0]
	if vd.Namespace != "ns" {
		t.Fatalf("unexpected order: %s", vd.Namespace)
	}
	if got := idx[vd].failover.Name; got != "z-older" {
		t.Errorf("winner %q, want z-older", got)
	}
	if got := idx[vd].mapping.To[0].Region; got != "eu-west" {
		t.Errorf("mapping from the winner: to %q, want eu-west", got)
	}
	if _, ok := idx[&w.VirtualDestinations()[1]]; ok {
		t.Error("a policy without selector namespace selected a VirtualDestination in another namespace")
	}
	want := []Diagnostic{
		{Object: "FailoverPolicy ns/a-newer", Field: "spec.applyToDestinations",
			Message: "VirtualDestination ns/reviews already has the older FailoverPolicy ns/z-older; this policy does not apply to it (one FailoverPolicy per VirtualDestination)"},
		{Object: "OutlierDetectionPolicy ns/nothing", Field: "spec.applyToDestinations", Message: "selects no VirtualDestination"},
	}
	if diff := cmp.Diff(want, r.Diagnostics); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if !idx[vd].prioritized(vd) {
		t.Error("a FailoverPolicy must turn locality priority on")
	}
}

func TestValidFailover(t *testing.T) {
	fp := &model.FailoverPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}}
	fp.Spec.Config = v1alpha1.FailoverConfig{
		LocalityMappings: []v1alpha1.LocalityMapping{
			{From: v1alpha1.Locality{Zone: "z"}, To: []v1alpha1.WeightedLocality{{Region: "a"}}},
			{From: v1alpha1.Locality{Region: "r"}, To: []v1alpha1.WeightedLocality{{Zone: "z"}, {Region: "b", Weight: -1}}},
		},
		PriorityLabels: &v1alpha1.PriorityLabels{Labels: []string{"", "version"}},
	}
	r := &Resources{}
	got := validFailover(fp, r)
	want := v1alpha1.FailoverConfig{
		LocalityMappings: []v1alpha1.LocalityMapping{{From: v1alpha1.Locality{Region: "r"}, To: []v1alpha1.WeightedLocality{{Region: "b"}}}},
		PriorityLabels:   &v1alpha1.PriorityLabels{Labels: []string{"version"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	var fields []string
	for _, d := range r.Diagnostics {
		fields = append(fields, d.Field)
	}
	wantFields := []string{
		"spec.config.localityMappings[0].from.region",
		"spec.config.localityMappings[1].to[0].region",
		"spec.config.localityMappings[1].to[1].weight",
		"spec.config.priorityLabels.labels[0]",
	}
	if diff := cmp.Diff(wantFields, fields); diff != "" {
		t.Errorf("diagnostic fields (-want +got):\n%s", diff)
	}
}
