package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

var (
	amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
)

// testSpec has two distinct "binaries" (the package does not look inside).
func testSpec(t *testing.T) Spec {
	t.Helper()
	dir := t.TempDir()
	var bins []Binary
	for _, p := range []v1.Platform{amd64, arm64} {
		path := filepath.Join(dir, p.Architecture)
		if err := os.WriteFile(path, []byte("binary for "+p.Architecture), 0o755); err != nil {
			t.Fatal(err)
		}
		bins = append(bins, Binary{Platform: p, Path: path})
	}
	return Spec{Binaries: bins, Version: "v1.2.3", Revision: "abc123", Source: "https://example.com/causeway",
		Created: time.Unix(1765000000, 0)}
}

func digest(t *testing.T, s Spec) v1.Hash {
	t.Helper()
	idx, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// files reads the regular files and directories of every layer of img.
func files(t *testing.T, img v1.Image) map[string]*tar.Header {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*tar.Header{}
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
			data, _ := io.ReadAll(tr)
			h.Linkname = string(data) // the content, for the checks below
			out[h.Name] = h
		}
		rc.Close()
	}
	return out
}

func TestBuildConfigAndLayers(t *testing.T) {
	s := testSpec(t)
	idx, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	// validate.Index runs on what WriteLayout wrote (the in-memory
	// manifests keep an empty annotations map that JSON leaves out).
	m, _ := idx.IndexManifest()
	if m.MediaType != types.OCIImageIndex || len(m.Manifests) != 2 {
		t.Fatalf("index: %s with %d manifests, want an OCI index of 2", m.MediaType, len(m.Manifests))
	}
	for i, p := range []v1.Platform{amd64, arm64} {
		if got := m.Manifests[i].Platform; got == nil || !got.Equals(p) {
			t.Errorf("manifest %d platform %v, want %v", i, got, p)
		}
		img, err := PlatformImage(idx, p)
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := img.ConfigFile()
		c := cf.Config
		if c.User != "65532:65532" || len(c.Entrypoint) != 1 || c.Entrypoint[0] != "/causeway" || c.WorkingDir != "/home/nonroot" {
			t.Errorf("%s: user %q, entrypoint %v, workdir %q", p.Architecture, c.User, c.Entrypoint, c.WorkingDir)
		}
		for k, want := range map[string]string{LabelVersion: "v1.2.3", LabelRevision: "abc123", LabelSource: "https://example.com/causeway", LabelCreated: "2025-12-06T05:46:40Z"} {
			if c.Labels[k] != want {
				t.Errorf("%s: label %s = %q, want %q", p.Architecture, k, c.Labels[k], want)
			}
		}
		if cf.Architecture != p.Architecture || cf.OS != "linux" || !cf.Created.Time.Equal(s.Created) {
			t.Errorf("%s: config says %s/%s created %v", p.Architecture, cf.OS, cf.Architecture, cf.Created)
		}
		fs := files(t, img)
		bin := fs["causeway"]
		if bin == nil || bin.Linkname != "binary for "+p.Architecture || bin.Mode != 0o755 || bin.Uid != 0 {
			t.Fatalf("%s: /causeway %+v, want this platform's binary, 0755, owned by root", p.Architecture, bin)
		}
		if h := fs["etc/passwd"]; h == nil || !bytes.Contains([]byte(h.Linkname), []byte("nonroot:x:65532:65532:")) {
			t.Errorf("%s: /etc/passwd lacks the nonroot user: %+v", p.Architecture, h)
		}
		if h := fs["home/nonroot/"]; h == nil || h.Uid != UID || h.Typeflag != tar.TypeDir {
			t.Errorf("%s: /home/nonroot not a directory owned by %d: %+v", p.Architecture, UID, h)
		}
		if _, ok := fs["etc/ssl/certs/ca-certificates.crt"]; ok {
			t.Errorf("%s: CA bundle included without Spec.CACertificates", p.Architecture)
		}
		for name, h := range fs {
			if !h.ModTime.Equal(s.Created) {
				t.Errorf("%s: %s modified %v, want the creation time", p.Architecture, name, h.ModTime)
			}
		}
	}
}

func TestBuildReproducible(t *testing.T) {
	s := testSpec(t)
	first := digest(t, s)
	if again := digest(t, s); again != first {
		t.Fatalf("same inputs, digests %s and %s", first, again)
	}
	// Each input shows in the digest.
	changes := map[string]func(*Spec){
		"version": func(s *Spec) { s.Version = "v1.2.4" },
		"created": func(s *Spec) { s.Created = s.Created.Add(time.Second) },
		"binary": func(s *Spec) {
			if err := os.WriteFile(s.Binaries[1].Path, []byte("other"), 0o755); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, change := range changes {
		c := testSpec(t)
		change(&c)
		if d := digest(t, c); d == first {
			t.Errorf("changing the %s left the digest %s", name, d)
		}
	}
}

func TestBuildCACertificates(t *testing.T) {
	s := testSpec(t)
	s.CACertificates = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(s.CACertificates, []byte("-----BEGIN CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	idx, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := PlatformImage(idx, amd64)
	if h := files(t, img)["etc/ssl/certs/ca-certificates.crt"]; h == nil || h.Linkname != "-----BEGIN CERTIFICATE-----\n" {
		t.Errorf("CA bundle: %+v", h)
	}
	s.CACertificates = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := Build(s); err == nil {
		t.Error("a missing CA bundle did not fail the build")
	}
}

// TestWriteLayoutAndArchive writes the layout and a docker archive and
// reads them back with the library's readers.
func TestWriteLayoutAndArchive(t *testing.T) {
	idx, err := Build(testSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	d, err := WriteLayout(dir, idx, "v1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	top, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	tm, _ := top.IndexManifest()
	if len(tm.Manifests) != 1 || tm.Manifests[0].Digest != d || tm.Manifests[0].Annotations[refNameAnnotation] != "v1.2.3" {
		t.Fatalf("index.json: %+v, want the image index %s named v1.2.3", tm.Manifests, d)
	}
	read, err := top.ImageIndex(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(read); err != nil {
		t.Errorf("layout's index does not validate: %v", err)
	}

	archive := filepath.Join(t.TempDir(), "causeway.tar")
	if err := WriteDockerArchive(archive, idx, arm64, "causeway:v1.2.3"); err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(archive, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cf, _ := img.ConfigFile(); cf.Architecture != "arm64" || cf.Config.User != "65532:65532" {
		t.Errorf("docker archive: %s, user %q", cf.Architecture, cf.Config.User)
	}
	if err := WriteDockerArchive(archive, idx, v1.Platform{OS: "linux", Architecture: "s390x"}, "causeway:x"); err == nil {
		t.Error("an archive for a platform the index lacks did not fail")
	}
}
