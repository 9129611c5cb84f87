package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's user, path of the binary and working directory.
const (
	UID        = 65532
	BinaryPath = "/causeway"
	// HomeDir is the working directory, owned by UID, so serve's default
	// --ca-dir (./.causeway/ca) is writable without a volume.
	HomeDir = "/home/nonroot"
	// CACertificatesPath is where a CA bundle goes (Go's crypto/x509 reads it there).
	CACertificatesPath = "/etc/ssl/certs/ca-certificates.crt"
)

// OCI annotation keys used as image labels.
const (
	LabelVersion  = "org.opencontainers.image.version"
	LabelRevision = "org.opencontainers.image.revision"
	LabelSource   = "org.opencontainers.image.source"
	LabelCreated  = "org.opencontainers.image.created"
	LabelTitle    = "org.opencontainers.image.title"
	LabelLicenses = "org.opencontainers.image.licenses"
)

// Binary is the causeway binary for one platform.
type Binary struct {
	Platform v1.Platform // OS and Architecture (Variant for arm64: v8)
	Path     string
}

// Spec says what goes into the image.
type Spec struct {
	Binaries []Binary
	// Version, Revision and Source become the OCI labels.
	Version, Revision, Source string
	// Created is every timestamp in the image (SOURCE_DATE_EPOCH).
	Created time.Time
	// CACertificates is a PEM bundle copied to CACertificatesPath; empty:
	// none (serve verifies API servers and proxies with the CAs its
	// kubeconfigs and --ca-dir name, never the system roots).
	CACertificates string
}

// Build makes the image index: one image per binary, in the order given.
func Build(s Spec) (v1.ImageIndex, error) {
	if len(s.Binaries) == 0 {
		return nil, fmt.Errorf("image: no binaries")
	}
	created := s.Created.UTC().Truncate(time.Second)
	base, err := baseLayer(created, s.CACertificates)
	if err != nil {
		return nil, err
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, b := range s.Binaries {
		img, err := platformImage(s, created, base, b)
		if err != nil {
			return nil, fmt.Errorf("image for %s: %w", b.Platform.String(), err)
		}
		p := b.Platform
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return idx, nil
}

func platformImage(s Spec, created time.Time, base v1.Layer, b Binary) (v1.Image, error) {
	bin, err := os.ReadFile(b.Path)
	if err != nil {
		return nil, err
	}
	binLayer, err := layer([]entry{{name: BinaryPath[1:], mode: 0o755, data: bin}}, created)
	if err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	at := v1.Time{Time: created}
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, MediaType: types.OCILayer, History: v1.History{Created: at, CreatedBy: "causeway-image: /etc/passwd, /etc/group, " + HomeDir + ", /tmp"}},
		mutate.Addendum{Layer: binLayer, MediaType: types.OCILayer, History: v1.History{Created: at, CreatedBy: "causeway-image: " + BinaryPath}},
	)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.Created = at
	cfg.OS, cfg.Architecture, cfg.Variant = b.Platform.OS, b.Platform.Architecture, b.Platform.Variant
	cfg.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", UID, UID),
		Entrypoint: []string{BinaryPath},
		WorkingDir: HomeDir,
		Env:        []string{"HOME=" + HomeDir},
		Labels: map[string]string{
			LabelVersion: s.Version, LabelRevision: s.Revision, LabelSource: s.Source,
			LabelCreated: created.Format(time.RFC3339), LabelTitle: "causeway", LabelLicenses: "Apache-2.0",
		},
	}
	return mutate.ConfigFile(img, cfg)
}

// baseLayer holds what the binary needs around it: the user's entries in
// /etc/passwd and /etc/group (for tools that show the user by name), its
// home, a /tmp, and the CA bundle if one is given.
func baseLayer(created time.Time, caBundle string) (v1.Layer, error) {
	entries := []entry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/group", mode: 0o644, data: []byte(fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", UID))},
		{name: "etc/passwd", mode: 0o644, data: []byte(fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:%s:/sbin/nologin\n", UID, UID, HomeDir))},
		{name: "home/", mode: 0o755, dir: true},
		{name: HomeDir[1:] + "/", mode: 0o700, dir: true, owner: UID},
		{name: "tmp/", mode: 0o1777, dir: true},
	}
	if caBundle != "" {
		pem, err := os.ReadFile(caBundle)
		if err != nil {
			return nil, fmt.Errorf("CA certificates: %w", err)
		}
		entries = append(entries,
			entry{name: "etc/ssl/", mode: 0o755, dir: true},
			entry{name: "etc/ssl/certs/", mode: 0o755, dir: true},
			entry{name: CACertificatesPath[1:], mode: 0o644, data: pem})
	}
	return layer(entries, created)
}

// entry is one file or directory of a layer.
type entry struct {
	name  string // relative, directories end in /
	mode  int64
	dir   bool
	owner int // uid and gid
	data  []byte
}

// layer writes entries, in order, as a gzip-compressed OCI layer with
// fixed owners, modes and times.
func layer(entries []entry, created time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name: e.name, Mode: e.mode, Uid: e.owner, Gid: e.owner, ModTime: created,
			Typeflag: tar.TypeReg, Size: int64(len(e.data)), Format: tar.FormatPAX,
		}
		if e.dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithMediaType(types.OCILayer))
}
