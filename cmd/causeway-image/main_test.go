package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/causeway-dev/causeway/internal/image"
)

func TestParsePlatforms(t *testing.T) {
	cases := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"linux/amd64,linux/arm64", "linux/amd64 linux/arm64/v8", false},
		{"linux/arm/v7", "linux/arm/v7", false},
		{"linux", "", true},
		{"linux/amd64,", "", true},
	}
	for _, tc := range cases {
		ps, err := parsePlatforms(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: error %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		var got []string
		for _, p := range ps {
			got = append(got, p.String())
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%q: %v, want %s", tc.in, got, tc.want)
		}
	}
}

// TestImageOfCauseway builds the real image for this machine's platform
// twice: the same digest both times, the config make image promises, and
// the binary in the layer runs and reports the stamped version.
func TestImageOfCauseway(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles causeway with -trimpath twice; -short skips it")
	}
	platform := "linux/" + runtime.GOARCH
	if runtime.GOOS != "linux" {
		t.Skipf("runs the image's linux binary; this is %s", runtime.GOOS)
	}
	dir := t.TempDir()
	build := func(out string, extra ...string) string {
		var stdout bytes.Buffer
		args := append([]string{"--out", out, "--platforms", platform, "--package", "github.com/causeway-dev/causeway/cmd/causeway",
			"--version", "v0.0.0-test", "--revision", "0123456789abcdef", "--source-date-epoch", "1765000000"}, extra...)
		if err := run(context.Background(), args, &stdout); err != nil {
			t.Fatal(err)
		}
		return stdout.String()
	}
	archive := filepath.Join(dir, "causeway.tar")
	first := build(filepath.Join(dir, "a"), "--docker-archive", archive)
	second := build(filepath.Join(dir, "b"))
	digestOf := func(s string) string { _, d, _ := strings.Cut(s, "index "); d, _, _ = strings.Cut(d, " "); return d }
	if digestOf(first) == "" || digestOf(first) != digestOf(second) {
		t.Fatalf("two builds of the same inputs:\n%s%s", first, second)
	}
	t.Logf("%s", first)
	if _, err := os.Stat(archive); err != nil {
		t.Errorf("docker archive: %v", err)
	}

	top, err := layout.ImageIndexFromPath(filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := top.IndexManifest()
	idx, err := top.ImageIndex(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(idx); err != nil {
		t.Fatalf("layout does not validate: %v", err)
	}
	img, err := image.PlatformImage(idx, v1.Platform{OS: "linux", Architecture: runtime.GOARCH})
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	if cf.Config.User != "65532:65532" || cf.Config.Entrypoint[0] != "/causeway" ||
		cf.Config.Labels[image.LabelVersion] != "v0.0.0-test" || cf.Config.Labels[image.LabelRevision] != "0123456789abcdef" {
		t.Errorf("config: %+v", cf.Config)
	}
	bin := filepath.Join(dir, "causeway")
	if err := os.WriteFile(bin, fileInImage(t, img, "causeway"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if want := "causeway v0.0.0-test (revision 0123456789abcdef, " + runtime.Version() + ", built 2025-12-06T05:46:40Z)\n"; err != nil || string(out) != want {
		t.Errorf("the image's /causeway --version: %v %q, want %q", err, out, want)
	}
}

// fileInImage reads one regular file from img's layers.
func fileInImage(t *testing.T, img v1.Image, name string) []byte {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Name == name {
				b, err := io.ReadAll(tr)
				rc.Close()
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
		}
		rc.Close()
	}
	t.Fatalf("no %s in the image", name)
	return nil
}
