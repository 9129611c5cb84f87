package translator

import "testing"

func TestDestinationKeyNames(t *testing.T) {
	tests := []struct {
		key                   DestinationKey
		cluster, inbound, sni string
	}{
		{
			key:     DestinationKey{Host: "reviews.mesh.internal.com", Port: 9080},
			cluster: "outbound|9080||reviews.mesh.internal.com",
			inbound: "inbound|9080||reviews.mesh.internal.com",
			sni:     "outbound_.9080_._.reviews.mesh.internal.com",
		},
		{
			key:     DestinationKey{Host: "reviews.mesh.internal.com", Port: 9080, Subset: "v1"},
			cluster: "outbound|9080|v1|reviews.mesh.internal.com",
			inbound: "inbound|9080|v1|reviews.mesh.internal.com",
			sni:     "outbound_.9080_.v1_.reviews.mesh.internal.com",
		},
		{
			key:     DestinationKey{Workspace: "team-a", Host: "reviews.mesh.internal.com", Port: 9080, Subset: "v1"},
			cluster: "outbound|9080|v1|reviews.mesh.internal.com|team-a",
			inbound: "inbound|9080|v1|reviews.mesh.internal.com|team-a",
			sni:     "outbound_.9080_.v1_.reviews.mesh.internal.com.team-a.causeway-ws",
		},
	}
	for _, tt := range tests {
		if got := tt.key.ClusterName(); got != tt.cluster {
			t.Errorf("%+v.ClusterName() = %q, want %q", tt.key, got, tt.cluster)
		}
		if got := tt.key.InboundName(); got != tt.inbound {
			t.Errorf("%+v.InboundName() = %q, want %q", tt.key, got, tt.inbound)
		}
		if got := tt.key.SNI(); got != tt.sni {
			t.Errorf("%+v.SNI() = %q, want %q", tt.key, got, tt.sni)
		}
	}
	if got, want := OutboundClusterName("h", 80), (DestinationKey{Host: "h", Port: 80}).ClusterName(); got != want {
		t.Errorf("OutboundClusterName = %q, want %q", got, want)
	}
	if got, want := SNI("h", 80, "v1"), (DestinationKey{Host: "h", Port: 80, Subset: "v1"}).SNI(); got != want {
		t.Errorf("SNI = %q, want %q", got, want)
	}
}
