package bootstrap

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/causeway-dev/causeway/model"
)

var clientOpts = Options{
	Role:         model.RoleClient,
	Cluster:      "cluster-1",
	Locality:     model.Locality{Region: "us-east", Zone: "us-east-1b"},
	BindAddress:  "10.0.0.7",
	Namespace:    "bookinfo",
	DNSPort:      5353,
	XDSAddress:   "127.0.0.1:18000",
	AdminAddress: "127.0.0.1:15000",
	Security:     Security{Insecure: true},
}

// TestBuildClient: a client proxy's node carries its namespace and DNS
// port, and Causeway reads back exactly the identity given.
func TestBuildClient(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mod    func(*Options)
		wantMD map[string]*structpb.Value
		want   model.Proxy
	}{
		{"namespace and dns port", func(*Options) {}, map[string]*structpb.Value{
			model.NodeMetaRole: structpb.NewStringValue("client"), model.NodeMetaCluster: structpb.NewStringValue("cluster-1"),
			model.NodeMetaBindAddress: structpb.NewStringValue("10.0.0.7"), model.NodeMetaNamespace: structpb.NewStringValue("bookinfo"),
			model.NodeMetaDNSPort: structpb.NewNumberValue(5353),
		}, model.Proxy{Role: model.RoleClient, Cluster: "cluster-1", Locality: clientOpts.Locality, BindAddress: "10.0.0.7", Namespace: "bookinfo", DNSPort: 5353}},
		{"defaults", func(o *Options) { o.Namespace, o.DNSPort = "", 0 }, map[string]*structpb.Value{
			model.NodeMetaRole: structpb.NewStringValue("client"), model.NodeMetaCluster: structpb.NewStringValue("cluster-1"),
			model.NodeMetaBindAddress: structpb.NewStringValue("10.0.0.7"),
		}, model.Proxy{Role: model.RoleClient, Cluster: "cluster-1", Locality: clientOpts.Locality, BindAddress: "10.0.0.7", DNSPort: model.DefaultDNSPort}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := clientOpts
			tc.mod(&o)
			y, err := Build(o)
			if err != nil {
				t.Fatal(err)
			}
			n := parse(t, y).GetNode()
			if n.GetId() != "client~cluster-1~10.0.0.7" || n.GetCluster() != "causeway-client" {
				t.Errorf("node id %q cluster %q", n.GetId(), n.GetCluster())
			}
			got := n.GetMetadata().GetFields()
			if len(got) != len(tc.wantMD) {
				t.Errorf("metadata %v, want %v", got, tc.wantMD)
			}
			for k, v := range tc.wantMD {
				if !strings.EqualFold(got[k].String(), v.String()) {
					t.Errorf("metadata %s = %v, want %v", k, got[k], v)
				}
			}
			p, err := model.ProxyFromNode(n, nil)
			if err != nil || p != tc.want {
				t.Errorf("ProxyFromNode = %+v, %v; want %+v", p, err, tc.want)
			}
		})
	}
}

func TestBuildClientErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Options)
		want string
	}{
		{"no bind address", func(o *Options) { o.BindAddress = "" }, "causeway.bind_address: a client proxy needs the address"},
		{"unspecified bind address", func(o *Options) { o.BindAddress = "0.0.0.0" }, "an IP address clients can reach"},
		{"bad namespace", func(o *Options) { o.Namespace = "Book_Info" }, `"Book_Info" is not a namespace name`},
		{"dns port range", func(o *Options) { o.DNSPort = 70000 }, "out of range"},
		{"a gateway proxy with a namespace", func(o *Options) { o.Role, o.Gateway = model.RoleGateway, "a/b" }, "only a client proxy serves a namespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := clientOpts
			tc.mod(&o)
			if _, err := Build(o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build = %v, want error containing %q", err, tc.want)
			}
		})
	}
}
