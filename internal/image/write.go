package image

import (
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// refNameAnnotation names the index in an OCI layout, so tools can refer to
// it as oci:DIR:REF (skopeo, podman).
const refNameAnnotation = "org.opencontainers.image.ref.name"

// WriteLayout writes idx as an OCI image layout in dir (replacing what was
// there), named ref, and returns the index's digest.
func WriteLayout(dir string, idx v1.ImageIndex, ref string) (v1.Hash, error) {
	if err := os.RemoveAll(dir); err != nil {
		return v1.Hash{}, err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{refNameAnnotation: ref})); err != nil {
		return v1.Hash{}, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	return idx.Digest()
}

// WriteDockerArchive writes the image of one platform of idx as a tarball
// that docker load and podman load read, tagged tag (docker load takes one
// platform).
func WriteDockerArchive(path string, idx v1.ImageIndex, platform v1.Platform, tag string) error {
	t, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("tag %q: %w", tag, err)
	}
	img, err := PlatformImage(idx, platform)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(path, t, img)
}

// PlatformImage is the image of idx for platform (OS and architecture).
func PlatformImage(idx v1.ImageIndex, platform v1.Platform) (v1.Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.OS == platform.OS && d.Platform.Architecture == platform.Architecture {
			return idx.Image(d.Digest)
		}
	}
	return nil, fmt.Errorf("image index has no %s/%s image", platform.OS, platform.Architecture)
}
