package main

import (
	"strings"
	"testing"
)

func TestBootstrapCommand(t *testing.T) {
	code, out, errOut := causeway(t, "bootstrap", "--role", "eastwest", "--cluster", "cluster-2", "--region", "us-west",
		"--bind-address", "127.0.2.100", "--admin-address", "127.0.2.100:19000", "--xds-address", "127.0.0.1:18001", "--xds-insecure")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	for _, want := range []string{"id: eastwest~cluster-2~127.0.2.100", "causeway.cluster: cluster-2", "port_value: 18001", "region: us-west"} {
		if !strings.Contains(out, want) {
			t.Errorf("bootstrap lacks %q:\n%s", want, out)
		}
	}
}

// TestBootstrapSeveralXDSAddresses: --xds-address repeats and
// comma-separates; every address is an endpoint of the one xds cluster.
func TestBootstrapSeveralXDSAddresses(t *testing.T) {
	code, out, errOut := causeway(t, "bootstrap", "--cluster", "cluster-1", "--all-gateways", "--xds-insecure",
		"--xds-address", "127.0.41.1:18000,127.0.41.2:18000", "--xds-address", "127.0.41.3:18000")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	for _, want := range []string{"address: 127.0.41.1", "address: 127.0.41.2", "address: 127.0.41.3", "base_interval: 0.250s", "max_interval: 1s"} {
		if !strings.Contains(out, want) {
			t.Errorf("bootstrap lacks %q:\n%s", want, out)
		}
	}
	n := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "name: causeway_xds" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d xds clusters, want 1:\n%s", n, out)
	}
}

// TestProxyFlagErrors: every command taking --role, --cluster or
// --gateway reports a wrong value as the flag, never as the node metadata
// it would become.
func TestProxyFlagErrors(t *testing.T) {
	commands := map[string][]string{
		"bootstrap":   {"bootstrap", "--xds-insecure"},
		"translate":   {"translate", "--world", "testdata/world.yaml"},
		"certs issue": {"certs", "issue", "--ca-dir", t.TempDir(), "--out", t.TempDir()},
	}
	for _, tc := range []struct {
		name     string
		commands []string
		args     []string
		want     string
	}{
		{"unknown role", []string{"bootstrap", "translate", "certs issue"}, []string{"--role", "ingress", "--cluster", "cluster-1"},
			`--role: "ingress" is not a role; use gateway, eastwest or client`},
		{"unknown role with a Gateway", []string{"bootstrap", "translate"}, []string{"--role", "ingress", "--cluster", "cluster-1", "--gateway", "a/b"},
			`--role: "ingress" is not a role; use gateway, eastwest or client`},
		{"empty cluster", []string{"bootstrap", "translate", "certs issue"}, []string{"--role", "eastwest", "--cluster", ""},
			"--cluster is required"},
		{"bad Gateway", []string{"bootstrap", "translate"}, []string{"--cluster", "cluster-1", "--gateway", "ingress"},
			`--gateway "ingress": want <namespace>/<name> of a Gateway`},
	} {
		for _, name := range tc.commands {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				code, out, errOut := causeway(t, append(append([]string{}, commands[name]...), tc.args...)...)
				if code != 1 || out != "" || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "node metadata") {
					t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and %q, no node metadata", code, out, errOut, tc.want)
				}
			})
		}
	}
}

// TestBootstrapGateway: a gateway proxy names its Gateway (or every
// Gateway of its cluster) in node metadata and its default node id.
func TestBootstrapGateway(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		id, meta string
	}{
		{[]string{"--gateway", "gloo-system/http"}, "id: gateway~cluster-1~gloo-system/http~127.0.1.1", "causeway.gateway: gloo-system/http"},
		{[]string{"--all-gateways"}, "id: gateway~cluster-1~*~127.0.1.1", "causeway.gateway: '*'"},
	} {
		args := append([]string{"bootstrap", "--cluster", "cluster-1", "--bind-address", "127.0.1.1", "--xds-insecure"}, tc.args...)
		code, out, errOut := causeway(t, args...)
		if code != 0 {
			t.Errorf("%v: exit %d, stderr:\n%s", tc.args, code, errOut)
			continue
		}
		for _, want := range []string{tc.id, tc.meta} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: bootstrap lacks %q:\n%s", tc.args, want, out)
			}
		}
	}
}

func TestBootstrapGatewayErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--role gateway needs --gateway <namespace>/<name> (the one Gateway the proxy serves) or --all-gateways (every Gateway of its cluster)"},
		{[]string{"--gateway", "a/b", "--all-gateways"}, `--gateway "a/b" and --all-gateways: give one or the other`},
		{[]string{"--gateway", "http"}, `--gateway "http": want <namespace>/<name> of a Gateway (or --all-gateways)`},
		{[]string{"--role", "eastwest", "--gateway", "a/b"}, "--gateway and --all-gateways are for --role gateway; a eastwest proxy serves no Gateway"},
	} {
		args := append([]string{"bootstrap", "--cluster", "cluster-1", "--xds-insecure"}, tc.args...)
		code, out, errOut := causeway(t, args...)
		if code != 1 || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 1 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
}

func TestBootstrapProtocol(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "api_type: DELTA_GRPC"},
		{[]string{"--xds-protocol", "delta"}, "api_type: DELTA_GRPC"},
		{[]string{"--xds-protocol", "sotw"}, "api_type: GRPC"},
	} {
		args := append([]string{"bootstrap", "--cluster", "cluster-1", "--gateway", "gloo-system/http", "--xds-insecure"}, tc.args...)
		code, out, errOut := causeway(t, args...)
		if code != 0 {
			t.Errorf("%v: exit %d, stderr:\n%s", tc.args, code, errOut)
			continue
		}
		if !strings.Contains(out, "\n    "+tc.want+"\n") {
			t.Errorf("%v: bootstrap lacks %q:\n%s", tc.args, tc.want, out)
		}
	}
}

func TestBootstrapBadProtocol(t *testing.T) {
	code, out, errOut := causeway(t, "bootstrap", "--cluster", "c", "--all-gateways", "--xds-insecure", "--xds-protocol", "rest")
	if code != 1 || out != "" || !strings.Contains(errOut, `--xds-protocol "rest": want delta or sotw`) {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 naming --xds-protocol", code, out, errOut)
	}
}

func TestVersionAndHelp(t *testing.T) {
	if code, out, _ := causeway(t, "version"); code != 0 || !strings.HasPrefix(out, "causeway dev\n") {
		t.Errorf("version: exit %d, output %q", code, out)
	}
	for _, cmd := range []string{"bootstrap", "translate", "serve", "version", "certs", "certs issue"} {
		code, out, _ := causeway(t, append(strings.Fields(cmd), "--help")...)
		if code != 0 || !strings.Contains(out, "Examples:") {
			t.Errorf("%s --help: exit %d, no example:\n%s", cmd, code, out)
		}
	}
}
