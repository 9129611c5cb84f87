package e2eclient

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// testProtocols: one client listener port takes HTTP/1.1 and HTTP/2 with
// prior knowledge (h2c), and gRPC reaches a backend that speaks nothing
// else (greeter.global, a VirtualDestination port of protocol GRPC).
func testProtocols(t *testing.T, top *topology) {
	ctx := context.Background()
	const n = 20
	for _, tc := range []struct {
		name      string
		h2c       bool
		wantProto string
	}{
		{"HTTP1", false, "HTTP/1.1"},
		{"H2C", true, "HTTP/2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := top.httpClient(tc.h2c)
			failed, protos := 0, map[string]int{}
			for i := 0; i < n; i++ {
				r, resp, err := top.call(ctx, c, appHost, appPort, "/")
				if err == nil {
					_, err = classify(r)
				}
				if resp != nil {
					protos[resp.Proto]++
				}
				if err != nil || r.Cluster != "cluster-1" {
					failed++
					t.Errorf("call %d over %s: %+v, %v", i, tc.name, r, err)
				}
			}
			record(t, n, failed, "%s to %s: answered over %v", tc.name, appHost, protos)
			if protos[tc.wantProto] != n {
				t.Errorf("%d calls answered over %v, want all over %s", n, protos, tc.wantProto)
			}
		})
	}
	t.Run("GRPC", func(t *testing.T) {
		addr, err := top.pod.resolve(ctx, clientDNS, greeterHost)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := grpc.NewClient("passthrough:///"+net.JoinHostPort(addr.String(), fmt.Sprint(grpcPort)),
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithAuthority(greeterHost),
			grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) { return top.pod.DialContext(ctx, "tcp", a) }))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		health := healthpb.NewHealthClient(conn)
		check := func() (healthpb.HealthCheckResponse_ServingStatus, error) {
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			resp, err := health.Check(cctx, &healthpb.HealthCheckRequest{})
			return resp.GetStatus(), err
		}
		var last error
		if err := e2eutil.Eventually(30*time.Second, 200*time.Millisecond, func() error { _, last = check(); return last }); err != nil {
			t.Fatalf("grpc.health.v1 Check through %s:%d never succeeded: %v", greeterHost, grpcPort, last)
		}
		failed := 0
		for i := 0; i < n; i++ {
			status, err := check()
			if err != nil || status != healthpb.HealthCheckResponse_SERVING {
				failed++
				t.Errorf("check %d: %v, %v; want SERVING", i, status, err)
			}
		}
		record(t, n, failed, "grpc.health.v1 Check to %s:%d (%s)", greeterHost, grpcPort, addr)
	})
}
