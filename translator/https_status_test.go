package translator

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/causeway-dev/causeway/discovery/file"
)

// TestStatusesHTTPSListeners reads the status of the HTTPS golden worlds:
// a certificateRef that does not resolve leaves its listener Accepted
// (routes attach and count) but not Programmed, ResolvedRefs False with
// the reason the Gateway API names; conflicts and Passthrough are not
// Accepted; HTTPS listeners take HTTPRoutes.
func TestStatusesHTTPSListeners(t *testing.T) {
	type listener struct {
		Name       string
		Attached   int32
		Kinds      int
		Conditions []string
	}
	ok := []string{"Accepted=True/Accepted", "Programmed=True/Programmed", "ResolvedRefs=True/ResolvedRefs"}
	invalidRef := []string{"Accepted=True/Accepted", "Programmed=False/Invalid", "ResolvedRefs=False/InvalidCertificateRef"}
	notPermitted := []string{"Accepted=True/Accepted", "Programmed=False/Invalid", "ResolvedRefs=False/RefNotPermitted"}
	conflict := []string{"Conflicted=True/ProtocolConflict", "Accepted=False/PortUnavailable", "Programmed=False/Invalid", "ResolvedRefs=True/ResolvedRefs"}
	for _, tc := range []struct {
		golden     string
		gateway    []string
		listeners  []listener
		wantInMsgs []string // in the listeners' ResolvedRefs messages
	}{{
		golden:     "https-two-certificates-sni",
		gateway:    []string{"Accepted=True/Accepted", "Programmed=True/Programmed"},
		listeners:  []listener{{"a", 1, 1, ok}, {"b", 1, 1, ok}, {"default", 0, 1, ok}},
		wantInMsgs: []string{"every tls.certificateRefs entry resolved"},
	}, {
		golden:  "https-cross-namespace-refgrant",
		gateway: []string{"Accepted=True/Accepted", "Programmed=True/Programmed"},
		// The route has no sectionName: it attaches to all three, and counts
		// on the two that are not served too.
		listeners:  []listener{{"granted", 1, 1, ok}, {"denied", 1, 1, notPermitted}, {"route-grant", 1, 1, notPermitted}},
		wantInMsgs: []string{"Secret certs/other-cert is in another namespace", "Secret certs/route-cert is in another namespace"},
	}, {
		golden:  "https-invalid-cert-ref",
		gateway: []string{"Accepted=True/ListenersNotValid", "Programmed=True/Programmed"},
		listeners: []listener{
			{"good", 1, 1, ok},
			{"missing", 1, 1, invalidRef},
			{"wrong-kind", 1, 1, invalidRef},
			{"malformed", 1, 1, invalidRef},
			{"mismatched", 1, 1, invalidRef},
			{"passthrough", 0, 1, []string{"Accepted=False/UnsupportedValue", "Programmed=False/Invalid", "ResolvedRefs=True/ResolvedRefs"}},
			{"plain-conflict", 0, 1, conflict},
			{"tls-conflict", 0, 1, conflict},
		},
		wantInMsgs: []string{"Secret gloo-system/nonexistent not found", `kind "ConfigMap" is not supported`,
			"malformed-cert: failed to find any PEM data", "mismatched-cert: private key does not match public key"},
	}, {
		golden:    "http-to-https-redirect",
		gateway:   []string{"Accepted=True/Accepted", "Programmed=True/Programmed"},
		listeners: []listener{{"http", 1, 1, ok}, {"https", 1, 1, ok}},
	}} {
		t.Run(tc.golden, func(t *testing.T) {
			w, err := file.Load(filepath.Join(goldenDir, tc.golden, "world.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			rep := Statuses(w)
			if len(rep.Gateways) != 1 {
				t.Fatalf("got %d gateway statuses, want 1", len(rep.Gateways))
			}
			st := rep.Gateways[0]
			if diff := cmp.Diff(tc.gateway, condSummary(st.Conditions)); diff != "" {
				t.Errorf("gateway conditions (-want +got):\n%s", diff)
			}
			var got []listener
			var msgs []string
			for _, l := range st.Listeners {
				got = append(got, listener{string(l.Name), l.AttachedRoutes, len(l.SupportedKinds), condSummary(l.Conditions)})
				for _, c := range l.Conditions {
					if c.Type == "ResolvedRefs" {
						msgs = append(msgs, c.Message)
					}
				}
			}
			if diff := cmp.Diff(tc.listeners, got); diff != "" {
				t.Errorf("listeners (-want +got):\n%s", diff)
			}
			all := strings.Join(msgs, "\n")
			for _, want := range tc.wantInMsgs {
				if !strings.Contains(all, want) {
					t.Errorf("no ResolvedRefs message contains %q:\n%s", want, all)
				}
			}
			if strings.Contains(all, "BEGIN") {
				t.Errorf("a message quotes PEM:\n%s", all)
			}
		})
	}
}

// TestStatusesGatewayWithoutServedListener: a Gateway whose only listener
// has a certificate that does not resolve is not Programmed, though the
// listener is Accepted.
func TestStatusesGatewayWithoutServedListener(t *testing.T) {
	w := parseWorld(t, statusWorld, `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: tls-only, namespace: gloo-system}
spec:
  gatewayClassName: causeway
  listeners: [{name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: does-not-exist}]}}]`)
	for _, st := range Statuses(w).Gateways {
		if st.Name != "tls-only" {
			continue
		}
		want := []string{"Accepted=True/Accepted", "Programmed=False/Invalid"}
		if diff := cmp.Diff(want, condSummary(st.Conditions)); diff != "" {
			t.Errorf("gateway conditions (-want +got):\n%s", diff)
		}
		return
	}
	t.Fatal("no status for Gateway tls-only")
}
