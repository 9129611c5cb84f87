package translator

import (
	"testing"

	"github.com/causeway-dev/causeway/model"
)

func TestEndpointPort(t *testing.T) {
	svc := &model.Service{Ports: []model.ServicePort{
		{Name: "http", Port: 9080, TargetPort: 8080},
		{Name: "admin", Port: 9901},
	}}
	named := &model.Endpoint{Ports: []model.EndpointPort{{Name: "http", Port: 18080}, {Name: "metrics", Port: 15090}}}
	bare := &model.Endpoint{}
	for _, tc := range []struct {
		name   string
		vp     model.VirtualDestinationPort
		ep     *model.Endpoint
		want   uint32
		wantOK bool
	}{
		{"number wins", model.VirtualDestinationPort{Number: 80, TargetPort: &model.TargetPort{Number: 9999, Name: "http"}}, named, 9999, true},
		{"name on endpoint", model.VirtualDestinationPort{Number: 80, TargetPort: &model.TargetPort{Name: "metrics"}}, named, 15090, true},
		{"name via service port target", model.VirtualDestinationPort{Number: 80, TargetPort: &model.TargetPort{Name: "http"}}, bare, 8080, true},
		{"name via service port without target", model.VirtualDestinationPort{Number: 80, TargetPort: &model.TargetPort{Name: "admin"}}, bare, 9901, true},
		{"name nowhere", model.VirtualDestinationPort{Number: 80, TargetPort: &model.TargetPort{Name: "grpc"}}, named, 0, false},
		{"unset, service port, endpoint names it", model.VirtualDestinationPort{Number: 9080}, named, 18080, true},
		{"unset, service port target", model.VirtualDestinationPort{Number: 9080}, bare, 8080, true},
		{"empty target port is unset", model.VirtualDestinationPort{Number: 9080, TargetPort: &model.TargetPort{}}, bare, 8080, true},
		{"unset, no service port", model.VirtualDestinationPort{Number: 7000}, named, 7000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := endpointPort(tc.vp, svc, tc.ep)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("endpointPort = %d, %v; want %d, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}
