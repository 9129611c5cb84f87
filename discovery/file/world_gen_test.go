package file

import (
	"bytes"
	"fmt"
)

// benchWorld renders a world like cmd/causeway-load's: vds
// VirtualDestinations, each selecting one Service in each of three
// clusters, each Service with eps endpoints, as compact one-line JSON
// documents. (Not imported from the tool: tests stay inside the package.)
func benchWorld(vds, eps int) []byte {
	var b bytes.Buffer
	clusters := []string{"c1", "c2", "c3"}
	for c, name := range clusters {
		fmt.Fprintf(&b, `{"apiVersion":"world.causeway.dev/v1alpha1","kind":"Cluster","metadata":{"name":%q},"spec":{"network":"n%d","locality":{"region":"r%d","zone":"z%d"},"eastWestGateways":[{"address":"127.0.%d.100","port":15443}]}}`+"\n---\n",
			name, c+1, c+1, c+1, c+1)
	}
	for i := 0; i < vds; i++ {
		b.WriteString(benchVD(i, 80))
		for c, cl := range clusters {
			fmt.Fprintf(&b, `{"apiVersion":"world.causeway.dev/v1alpha1","kind":"Service","metadata":{"name":"s%d","labels":{"app":"s%d"}},"spec":{"cluster":%q,"ports":[{"port":80}],"endpoints":[`, i, i, cl)
			for e := 0; e < eps; e++ {
				if e > 0 {
					b.WriteByte(',')
				}
				n := i*64 + e
				fmt.Fprintf(&b, `{"address":"1%d.%d.%d.%d"}`, c, (n>>16)&255, (n>>8)&255, n&255)
			}
			b.WriteString("]}}\n---\n")
		}
	}
	return b.Bytes()
}

// benchVD is the document of VirtualDestination i, with its separator.
func benchVD(i, port int) string {
	return fmt.Sprintf(`{"apiVersion":"networking.causeway.dev/v1alpha1","kind":"VirtualDestination","metadata":{"name":"s%d"},"spec":{"hosts":["s%d.mesh.internal"],"ports":[{"number":%d,"protocol":"HTTP"}],"services":[{"labels":{"app":"s%d"}}]}}`+"\n---\n",
		i, i, port, i)
}
