package envoycompat

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"golang.org/x/net/dns/dnsmessage"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/envoyrun"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// clientDNSAddress is the client proxy's address here, in issue 15's
// loopback block so that parallel test runs do not collide.
const clientDNSAddress = "127.0.90.11"

// TestClientDNSAnswers runs a client proxy's DNS listener, as the
// translator builds it, in a real Envoy and asks it: a served hostname
// resolves to the proxy's address; any other name, and the AAAA record of
// an IPv4 proxy's name, gets NXDOMAIN and no address.
func TestClientDNSAnswers(t *testing.T) {
	bin := e2eutil.RequireEnvoy(t)
	world, err := file.Load(filepath.Join(goldenDir, "client-basic", "world.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t, "udp")
	p := model.Proxy{Role: model.RoleClient, Cluster: "cluster-1", BindAddress: clientDNSAddress, DNSPort: uint32(port)}
	var dns *listenerv3.Listener
	for _, l := range translator.Translate(world, p, translator.Credentials{}).Listeners {
		if l.GetName() == translator.ClientDNSListenerName {
			dns = l
		}
	}
	if dns == nil {
		t.Fatalf("no %s listener", translator.ClientDNSListenerName)
	}
	admin := fmt.Sprintf("%s:%d", clientDNSAddress, freePort(t, "tcp"))
	boot := &bootstrapv3.Bootstrap{
		Node: &corev3.Node{Id: "client-dns", Cluster: "client-dns"},
		Admin: &bootstrapv3.Admin{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: clientDNSAddress, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(netip.MustParseAddrPort(admin).Port())},
		}}}},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{Listeners: []*listenerv3.Listener{dns}},
	}
	data, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(boot)
	if err != nil {
		t.Fatal(err)
	}
	e, err := envoyrun.Start(envoyrun.Options{Binary: bin, Bootstrap: data, AdminAddress: admin, Dir: t.TempDir(), Name: "client-dns", LogLevel: "warn"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Stop() })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := e.WaitReady(ctx); err != nil {
		t.Fatalf("%v\n%s", err, e.LogTail(20))
	}
	server := fmt.Sprintf("%s:%d", clientDNSAddress, port)
	for _, tc := range []struct {
		name  string
		qtype dnsmessage.Type
		rcode dnsmessage.RCode
		want  string // the A record's address, "" for none
	}{
		{"app.global.", dnsmessage.TypeA, dnsmessage.RCodeSuccess, clientDNSAddress},
		{"other.global.", dnsmessage.TypeA, dnsmessage.RCodeNameError, ""},
		{"example.com.", dnsmessage.TypeA, dnsmessage.RCodeNameError, ""},
		{"x.app.global.", dnsmessage.TypeA, dnsmessage.RCodeNameError, ""},
		{"app.global.", dnsmessage.TypeAAAA, dnsmessage.RCodeNameError, ""},
	} {
		t.Run(tc.name+tc.qtype.String(), func(t *testing.T) {
			rcode, addrs := query(t, server, tc.name, tc.qtype)
			if rcode != tc.rcode {
				t.Errorf("rcode %v, want %v", rcode, tc.rcode)
			}
			switch {
			case tc.want == "" && len(addrs) > 0:
				t.Errorf("answered %v, want no address", addrs)
			case tc.want != "" && (len(addrs) != 1 || addrs[0] != tc.want):
				t.Errorf("answered %v, want [%s]", addrs, tc.want)
			}
		})
	}
}

// query asks server for name's qtype records, retrying a lost datagram,
// and returns the response code and the A/AAAA addresses answered.
func query(t *testing.T, server, name string, qtype dnsmessage.Type) (dnsmessage.RCode, []string) {
	t.Helper()
	msg := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: 4242, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName(name), Type: qtype, Class: dnsmessage.ClassINET}},
	}
	packed, err := msg.Pack()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 1500)
	for attempt := 0; ; attempt++ {
		if _, err := conn.Write(packed); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			if attempt < 5 {
				continue
			}
			t.Fatalf("no answer from %s: %v", server, err)
		}
		var resp dnsmessage.Message
		if err := resp.Unpack(buf[:n]); err != nil {
			t.Fatal(err)
		}
		var addrs []string
		for _, a := range resp.Answers {
			switch r := a.Body.(type) {
			case *dnsmessage.AResource:
				addrs = append(addrs, netip.AddrFrom4(r.A).String())
			case *dnsmessage.AAAAResource:
				addrs = append(addrs, netip.AddrFrom16(r.AAAA).String())
			}
		}
		return resp.RCode, addrs
	}
}

// freePort is a port the kernel just had free on clientDNSAddress.
func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", clientDNSAddress+":0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", clientDNSAddress+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
