package kube

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/model"
)

// DefaultEastWestPort is the east-west gateway port when an address names none.
const DefaultEastWestPort = 15443

// ClusterConfig is the cluster config file (`causeway serve --clusters`).
type ClusterConfig struct {
	// StaleAfter is how long a cluster may be unreachable before its
	// endpoints count as stale; 0 when the file does not set it (the
	// caller applies its default).
	StaleAfter time.Duration
	// SyncTimeout bounds how long readiness waits for every cluster's first
	// sync; 0 when the file does not set it.
	SyncTimeout time.Duration
	Clusters    []ClusterEntry
}

// ClusterEntry is one workload cluster of the config file.
type ClusterEntry struct {
	Name string
	// Kubeconfig is the path of the cluster's kubeconfig, resolved against
	// the config file's directory when it was relative.
	Kubeconfig       string
	Network          string
	Locality         model.Locality
	EastWestGateways []model.GatewayAddress
}

// Info is what BuildWorld needs to know about the cluster (not stale).
func (e ClusterEntry) Info() ClusterInfo {
	return ClusterInfo{
		Name:             e.Name,
		Network:          e.Network,
		Locality:         e.Locality,
		EastWestGateways: append([]model.GatewayAddress(nil), e.EastWestGateways...),
	}
}

// Entry returns the cluster named name, or nil.
func (c *ClusterConfig) Entry(name string) *ClusterEntry {
	for i := range c.Clusters {
		if c.Clusters[i].Name == name {
			return &c.Clusters[i]
		}
	}
	return nil
}

// The file's shapes. Durations are strings so that a bad one is reported
// with its field; ports are int64 so that out-of-range values reach
// validation instead of failing decoding.
type clusterConfigFile struct {
	StaleAfter  string              `json:"staleAfter,omitempty"`
	SyncTimeout string              `json:"syncTimeout,omitempty"`
	Clusters    []clusterConfigItem `json:"clusters"`
}

type clusterConfigItem struct {
	Name             string                   `json:"name"`
	Kubeconfig       string                   `json:"kubeconfig"`
	Network          string                   `json:"network,omitempty"`
	Locality         model.Locality           `json:"locality,omitempty"`
	EastWestGateways []clusterConfigEWGateway `json:"eastWestGateways,omitempty"`
}

type clusterConfigEWGateway struct {
	Address string `json:"address"`
	Port    int64  `json:"port,omitempty"`
}

// LoadClusterConfig reads and validates the cluster config file at path.
// Every problem is reported, each naming the entry and field at fault.
func LoadClusterConfig(path string) (*ClusterConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseClusterConfig(path, data)
}

// ParseClusterConfig parses the cluster config file contents; path names
// the file in errors and relative kubeconfig paths are resolved against
// its directory.
func ParseClusterConfig(path string, data []byte) (*ClusterConfig, error) {
	fail := func(errs []error) error {
		lines := make([]string, len(errs))
		for i, e := range errs {
			lines[i] = path + ": " + e.Error()
		}
		return errors.New(strings.Join(lines, "\n"))
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fail([]error{err})
	}
	var f clusterConfigFile
	strictErrs, err := sigsjson.UnmarshalStrict(js, &f)
	if err != nil {
		return nil, fail([]error{errors.New(strings.TrimPrefix(err.Error(), "json: "))})
	}
	var errs []error
	for _, e := range strictErrs {
		errs = append(errs, errors.New(strings.TrimPrefix(e.Error(), "json: ")))
	}
	cfg := &ClusterConfig{}
	cfg.StaleAfter, errs = parseConfigDuration("staleAfter", f.StaleAfter, errs)
	cfg.SyncTimeout, errs = parseConfigDuration("syncTimeout", f.SyncTimeout, errs)
	// An empty list is fine: workload clusters may all be registered by
	// Secrets on the management cluster.
	first := map[string]int{}
	for i, item := range f.Clusters {
		entry, entryErrs := convertConfigItem(filepath.Dir(path), item)
		where := fmt.Sprintf("clusters[%d]", i)
		if item.Name != "" {
			where += " (" + item.Name + ")"
		}
		for _, e := range entryErrs {
			errs = append(errs, fmt.Errorf("%s: %w", where, e))
		}
		if j, dup := first[item.Name]; dup && item.Name != "" {
			errs = append(errs, fmt.Errorf("%s: name: duplicate cluster %q, first in clusters[%d]", where, item.Name, j))
			continue
		}
		first[item.Name] = i
		if len(entryErrs) == 0 {
			cfg.Clusters = append(cfg.Clusters, entry)
		}
	}
	if len(errs) > 0 {
		return nil, fail(errs)
	}
	return cfg, nil
}

func parseConfigDuration(field, s string, errs []error) (time.Duration, []error) {
	if s == "" {
		return 0, errs
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, append(errs, fmt.Errorf("%s: %q is not a duration (like 60s or 2m)", field, s))
	case d <= 0:
		return 0, append(errs, fmt.Errorf("%s: must be positive, got %s", field, s))
	}
	return d, errs
}

func convertConfigItem(dir string, item clusterConfigItem) (ClusterEntry, []error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if item.Name == "" {
		bad("name", "is required")
	} else if msgs := validation.IsDNS1123Subdomain(item.Name); len(msgs) > 0 {
		bad("name", "%q is not a valid name: %s", item.Name, strings.Join(msgs, "; "))
	}
	kubeconfig := item.Kubeconfig
	if kubeconfig == "" {
		bad("kubeconfig", "is required")
	} else if !filepath.IsAbs(kubeconfig) {
		kubeconfig = filepath.Join(dir, kubeconfig)
	}
	entry := ClusterEntry{Name: item.Name, Kubeconfig: kubeconfig, Network: item.Network, Locality: item.Locality}
	for i, g := range item.EastWestGateways {
		field := fmt.Sprintf("eastWestGateways[%d]", i)
		if g.Address == "" {
			bad(field+".address", "is required")
		} else if _, err := netip.ParseAddr(g.Address); err != nil {
			bad(field+".address", "%q is not an IP address", g.Address)
		}
		if g.Port == 0 {
			g.Port = DefaultEastWestPort
		}
		if g.Port < 1 || g.Port > 65535 {
			bad(field+".port", "must be 1-65535, got %d", g.Port)
		}
		entry.EastWestGateways = append(entry.EastWestGateways, model.GatewayAddress{Address: g.Address, Port: uint32(g.Port)})
	}
	return entry, errs
}
