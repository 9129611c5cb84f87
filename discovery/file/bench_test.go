package file

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/causeway-dev/causeway/model"
)

// benchSizes are worlds of 1,000 and 10,000 VirtualDestinations (30,000
// Services, 15 MB at 10 endpoints each), as the load test generates.
var benchSizes = []int{1000, 10000}

// BenchmarkParseCold parses a whole world with nothing cached: the first load.
func BenchmarkParseCold(b *testing.B) {
	for _, vds := range benchSizes {
		data := benchWorld(vds, 10)
		b.Run(fmt.Sprintf("vds=%d", vds), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse("world.yaml", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReloadOneDocumentChanged reloads a world in which one
// VirtualDestination's port changed since the last load, as the watcher
// does: the cost of a small edit, snapshot included.
func BenchmarkReloadOneDocumentChanged(b *testing.B) {
	for _, vds := range benchSizes {
		data := benchWorld(vds, 10)
		vd := vds / 2
		edited := bytes.Replace(data, []byte(benchVD(vd, 80)), []byte(benchVD(vd, 81)), 1)
		if bytes.Equal(data, edited) {
			b.Fatal("the edit changed nothing")
		}
		b.Run(fmt.Sprintf("vds=%d", vds), func(b *testing.B) {
			var cache docCache
			if _, err := parseWithCache("world.yaml", data, &cache); err != nil {
				b.Fatal(err)
			}
			versions := [2][]byte{edited, data}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if _, err := parseWithCache("world.yaml", versions[n%2], &cache); err != nil {
					b.Fatal(err)
				}
				n++
			}
		})
	}
}

// BenchmarkNewSnapshot is the part of a reload that builds the model
// snapshot from the parsed world.
func BenchmarkNewSnapshot(b *testing.B) {
	for _, vds := range benchSizes {
		w, err := parseWorld("world.yaml", benchWorld(vds, 10), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("vds=%d", vds), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				model.NewSnapshot(w)
			}
		})
	}
}

// BenchmarkRetainedHeap reports the heap a loader keeps between loads
// (its cache and the published snapshot) after loading a world (run it
// with -benchtime=1x: each load is a cold one).
func BenchmarkRetainedHeap(b *testing.B) {
	for _, vds := range benchSizes {
		path := filepath.Join(b.TempDir(), "world.yaml")
		if err := os.WriteFile(path, benchWorld(vds, 10), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("vds=%d", vds), func(b *testing.B) {
			var retained uint64
			for b.Loop() {
				before := heapAlloc()
				l := &loader{path: path, store: &model.Store{}, log: slog.New(slog.DiscardHandler)}
				if err := l.load(false); err != nil {
					b.Fatal(err)
				}
				retained = heapAlloc() - before
				runtime.KeepAlive(l)
			}
			b.ReportMetric(float64(retained)/(1<<20), "retained-MB")
		})
	}
}

// heapAlloc is the live heap, once garbage is collected.
func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
