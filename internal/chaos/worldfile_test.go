package chaos

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// A world-file replacement method writes data to path its own way.
type replaceMethod struct {
	name string
	// write replaces path's content with data.
	write func(t *testing.T, path string, data []byte)
}

var replaceMethods = []replaceMethod{
	// An editor saving in place or `cat new > world.yaml`.
	{"overwrite in place", func(t *testing.T, path string, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}},
	// A tool that truncates, then writes 0.3 s later.
	{"truncate, write 0.3s later", func(t *testing.T, path string, data []byte) {
		e2eutil.WriteInSteps(t, path, [][]byte{nil, data}, 300*time.Millisecond)
	}},
	// A write that stalls halfway (at a document boundary: the first half
	// is a valid world without Gateway and route) for a second.
	{"write paused 1s halfway", func(t *testing.T, path string, data []byte) {
		first, rest := halfWorld(t, data)
		e2eutil.WriteInSteps(t, path, [][]byte{first, rest}, time.Second)
	}},
	{"atomic rename over the file", writeRename},
}

// testWorldFileMethods replaces the world file every way above under load;
// each write carries the next generation, whose marker route must show up.
// Then an empty file (`: > world.yaml`) followed by the good one, and last
// a ConfigMap-style symlink swap.
func testWorldFileMethods(t *testing.T, top *topology) {
	for _, m := range replaceMethods {
		t.Run(m.name, func(t *testing.T) {
			underChaos(t, top, "world file: "+m.name, func(load *e2eutil.Load) string {
				time.Sleep(time.Second)
				p := top.nextGen()
				m.write(t, top.worldPath, renderWorld(p))
				top.world = p
				applied, err := top.awaitGen(p.Gen, changeTimeout)
				if err != nil {
					t.Fatal(err)
				}
				return fmt.Sprintf("change routed %v after the write", ms(applied))
			})
		})
	}
	t.Run("empty file then the good one", func(t *testing.T) {
		underChaos(t, top, "world file: empty, good 3s later", func(load *e2eutil.Load) string {
			time.Sleep(time.Second)
			if err := os.WriteFile(top.worldPath, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			// Long enough for a published empty world to reach the gateway.
			time.Sleep(3 * time.Second)
			p := top.nextGen()
			if err := os.WriteFile(top.worldPath, renderWorld(p), 0o644); err != nil {
				t.Fatal(err)
			}
			top.world = p
			applied, err := top.awaitGen(p.Gen, changeTimeout)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("good file routed %v after the write", ms(applied))
		})
	})
	t.Run("ConfigMap symlink swap", func(t *testing.T) { testConfigMapSwap(t, top) })
}

// configMapDir is a directory laid out as the kubelet mounts a ConfigMap:
// world.yaml -> ..data/world.yaml, ..data -> ..<timestamp>, the data in
// ..<timestamp>; an update writes a new ..<timestamp> and swaps ..data
// with a rename.
type configMapDir struct {
	dir   string
	swaps int
}

func (c *configMapDir) worldPath() string { return filepath.Join(c.dir, "world.yaml") }

func newConfigMapDir(t *testing.T, dir string, data []byte) *configMapDir {
	t.Helper()
	c := &configMapDir{dir: dir}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c.swap(t, data)
	if err := os.Symlink(filepath.Join("..data", "world.yaml"), c.worldPath()); err != nil {
		t.Fatal(err)
	}
	return c
}

// swap publishes data the kubelet's way (atomic_writer.go): new timestamped
// directory, ..data_tmp symlink to it renamed over ..data, old directory
// removed.
func (c *configMapDir) swap(t *testing.T, data []byte) {
	t.Helper()
	c.swaps++
	ts := fmt.Sprintf("..2026_01_01_00_00_%02d.%d", c.swaps, time.Now().UnixNano())
	if err := os.Mkdir(filepath.Join(c.dir, ts), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, ts, "world.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	old, _ := os.Readlink(filepath.Join(c.dir, "..data"))
	tmp := filepath.Join(c.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if old != "" {
		if err := os.RemoveAll(filepath.Join(c.dir, old)); err != nil {
			t.Fatal(err)
		}
	}
}

// testConfigMapSwap moves serve to a world mounted like a ConfigMap (a
// graceful restart onto the same content), then swaps ..data twice under
// load: a watcher that followed the first target would miss the second.
func testConfigMapSwap(t *testing.T, top *topology) {
	r := top.replicas[0]
	cm := newConfigMapDir(t, filepath.Join(top.dir, "configmap"), renderWorld(top.world))
	if err := r.proc.Stop(); err != nil {
		t.Fatal(err)
	}
	for i, a := range r.args {
		if a == "--world" {
			r.args[i+1] = cm.worldPath()
		}
	}
	top.worldPath = cm.worldPath()
	restarted := time.Now()
	top.startReplica(t, r)
	if _, err := top.awaitConnectedState(1, restarted, changeTimeout); err != nil {
		t.Fatalf("after serve restarted on the ConfigMap layout: %v", err)
	}
	underChaos(t, top, "world file: ConfigMap swap (x2)", func(load *e2eutil.Load) string {
		time.Sleep(time.Second)
		notes := "change routed"
		for i := 0; i < 2; i++ {
			p := top.nextGen()
			cm.swap(t, renderWorld(p))
			top.world = p
			applied, err := top.awaitGen(p.Gen, changeTimeout)
			if err != nil {
				t.Fatalf("swap %d: %v", i+1, err)
			}
			notes += fmt.Sprintf(" %v", ms(applied))
		}
		return notes + " after the swaps"
	})
}
