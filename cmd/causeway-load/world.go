package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// The generated world: vds VirtualDestinations, each selecting one Service
// (label app=<name>) in each of the benchmark clusters, each Service with
// eps endpoints, all in the default namespace. The documents are compact JSON (YAML's subset) so the
// largest world stays under the world file's 16 MiB limit.

// benchClusters are the workload clusters; the gateways under test are in
// the first.
var benchClusters = []string{"c1", "c2", "c3"}

const (
	vdNamespace = "bench"
	vdPort      = 80
)

// worldSpec sizes a world; notReady lists (vd index) whose first endpoint
// in the first cluster is not ready, down further endpoints of the first
// cluster that are not ready (the soak's changes).
type worldSpec struct {
	vds, eps int
	notReady map[int]bool
	down     map[endpointRef]bool
}

// endpointRef is endpoint e of VirtualDestination i's Service in the first
// cluster.
type endpointRef struct{ vd, ep int }

func vdName(i int) string { return "s" + strconv.Itoa(i) }

func vdHost(i int) string { return vdName(i) + ".mesh.internal" }

// edsName is the gateway's cluster for VirtualDestination i, as
// translator.OutboundClusterName names it (the test checks they agree; kept
// apart so the tool builds while the translator is being changed).
func edsName(i int) string { return fmt.Sprintf("outbound|%d||%s", vdPort, vdHost(i)) }

// endpointAddress is endpoint e of VirtualDestination i in cluster c:
// 10.<c+1>.<i/250...>; unique for up to 65,536 endpoints per cluster and
// VirtualDestination block.
func endpointAddress(c, i, e int) string {
	n := i*64 + e // at most 64 endpoints per Service
	return fmt.Sprintf("1%d.%d.%d.%d", c, (n>>16)&255, (n>>8)&255, n&255)
}

// generateWorld renders the world file.
func generateWorld(s worldSpec) []byte {
	var b bytes.Buffer
	b.Grow(s.vds * (len(benchClusters)*(200+25*s.eps) + 250))
	writeClusters(&b)
	for i := 0; i < s.vds; i++ {
		writeVD(&b, s, i)
	}
	return b.Bytes()
}

func writeClusters(b *bytes.Buffer) {
	for c, name := range benchClusters {
		fmt.Fprintf(b, `{"apiVersion":"world.causeway.dev/v1alpha1","kind":"Cluster","metadata":{"name":%q},"spec":{"network":"n%d","locality":{"region":"r%d","zone":"z%d"},"eastWestGateways":[{"address":"127.0.%d.100","port":15443}]}}`+"\n---\n",
			name, c+1, c+1, c+1, c+1)
	}
}

// writeVD renders VirtualDestination i and its Services.
func writeVD(b *bytes.Buffer, s worldSpec, i int) {
	n := vdName(i)
	fmt.Fprintf(b, `{"apiVersion":"networking.causeway.dev/v1alpha1","kind":"VirtualDestination","metadata":{"name":%q},"spec":{"hosts":[%q],"ports":[{"number":%d,"protocol":"HTTP"}],"services":[{"labels":{"app":%q}}]}}`+"\n---\n",
		n, vdHost(i), vdPort, n)
	for c, cl := range benchClusters {
		fmt.Fprintf(b, `{"apiVersion":"world.causeway.dev/v1alpha1","kind":"Service","metadata":{"name":%q,"labels":{"app":%q}},"spec":{"cluster":%q,"ports":[{"port":80}],"endpoints":[`,
			n, n, cl)
		for e := 0; e < s.eps; e++ {
			if e > 0 {
				b.WriteByte(',')
			}
			if c == 0 && (e == 0 && s.notReady[i] || s.down[endpointRef{i, e}]) {
				fmt.Fprintf(b, `{"address":%q,"ready":false}`, endpointAddress(c, i, e))
			} else {
				fmt.Fprintf(b, `{"address":%q}`, endpointAddress(c, i, e))
			}
		}
		b.WriteString("]}}\n---\n")
	}
}

// worldRenderer renders a world whose endpoints change often (the soak)
// by re-rendering only the VirtualDestinations that changed: rendering
// 1,000 of them takes the tool ~0.1 s of CPU it shares with serve.
type worldRenderer struct {
	spec   worldSpec
	blocks [][]byte // by VirtualDestination; nil: to render
	size   int      // of the last rendering
}

func newWorldRenderer(s worldSpec) *worldRenderer {
	return &worldRenderer{spec: s, blocks: make([][]byte, s.vds)}
}

// toggle flips endpoint e between ready and not ready.
func (w *worldRenderer) toggle(e endpointRef) {
	w.spec.down[e] = !w.spec.down[e]
	w.blocks[e.vd] = nil
}

func (w *worldRenderer) render() []byte {
	var b bytes.Buffer
	b.Grow(w.size)
	writeClusters(&b)
	for i, blk := range w.blocks {
		if blk == nil {
			var vb bytes.Buffer
			writeVD(&vb, w.spec, i)
			blk, w.blocks[i] = vb.Bytes(), vb.Bytes()
		}
		b.Write(blk)
	}
	w.size = b.Len()
	return b.Bytes()
}

// writeAtomic replaces path with data through a rename, so the watcher
// never reads a half-written file.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".world-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
