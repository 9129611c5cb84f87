// Command causeway-image builds Causeway's container image without a
// container runtime (make image): it cross-compiles a static causeway for
// each platform (CGO_ENABLED=0, -trimpath, version stamped with -ldflags
// -X) and writes an OCI image layout holding an index of one scratch image
// per platform (internal/image), optionally also a docker-archive tarball
// of one platform for docker load or podman load. Every timestamp is
// --source-date-epoch, so the same commit gives the same digest.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/causeway-dev/causeway/internal/image"
)

type options struct {
	out, platforms, pkg                string
	version, revision, source, caCerts string
	sourceDateEpoch                    int64
	archive, archivePlatform, tag      string
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "causeway-image: %v\n", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("causeway-image", flag.ContinueOnError)
	fs.StringVar(&o.out, "out", "bin/image", "directory to write the OCI image layout to (replaced)")
	fs.StringVar(&o.platforms, "platforms", "linux/amd64,linux/arm64", "comma-separated OS/ARCH list, one image each in the index")
	fs.StringVar(&o.pkg, "package", "./cmd/causeway", "main package to build into /causeway")
	fs.StringVar(&o.version, "version", "dev", "version stamped into the binary (main.version) and the org.opencontainers.image.version label")
	fs.StringVar(&o.revision, "revision", "", "commit stamped into the binary (main.revision) and the org.opencontainers.image.revision label")
	fs.StringVar(&o.source, "source", "https://github.com/causeway-dev/causeway", "org.opencontainers.image.source label")
	fs.StringVar(&o.caCerts, "ca-certificates", "", "PEM bundle to include at "+image.CACertificatesPath+" (none by default)")
	epoch := os.Getenv("SOURCE_DATE_EPOCH")
	if epoch == "" {
		epoch = "0"
	}
	fs.StringVar(&epoch, "source-date-epoch", epoch, "Unix time of every timestamp in the image and the binary's build date (default $SOURCE_DATE_EPOCH, else 0)")
	fs.StringVar(&o.archive, "docker-archive", "", "also write one platform's image as a docker-archive tarball here (docker load, podman load)")
	fs.StringVar(&o.archivePlatform, "docker-archive-platform", "linux/"+runtime.GOARCH, "OS/ARCH of the --docker-archive image")
	fs.StringVar(&o.tag, "tag", "", "tag of the --docker-archive image and name in the layout (default causeway:<version>)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if o.sourceDateEpoch, err = strconv.ParseInt(epoch, 10, 64); err != nil || o.sourceDateEpoch < 0 {
		return nil, fmt.Errorf("--source-date-epoch %q: want a Unix time in seconds", epoch)
	}
	if o.tag == "" {
		o.tag = "causeway:" + strings.ReplaceAll(o.version, "+", "_")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	platforms, err := parsePlatforms(o.platforms)
	if err != nil {
		return err
	}
	created := time.Unix(o.sourceDateEpoch, 0).UTC()
	tmp, err := os.MkdirTemp("", "causeway-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	spec := image.Spec{Version: o.version, Revision: o.revision, Source: o.source, Created: created, CACertificates: o.caCerts}
	for _, p := range platforms {
		bin := filepath.Join(tmp, "causeway-"+p.OS+"-"+p.Architecture)
		if err := buildBinary(ctx, o, p, created, bin); err != nil {
			return err
		}
		spec.Binaries = append(spec.Binaries, image.Binary{Platform: p, Path: bin})
	}
	idx, err := image.Build(spec)
	if err != nil {
		return err
	}
	digest, err := image.WriteLayout(o.out, idx, o.tag)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "OCI image layout %s: index %s (%s), %s\n", o.out, digest, o.platforms, o.tag)
	if o.archive != "" {
		ap, err := parsePlatforms(o.archivePlatform)
		if err != nil || len(ap) != 1 {
			return fmt.Errorf("--docker-archive-platform %q: want one OS/ARCH", o.archivePlatform)
		}
		if err := image.WriteDockerArchive(o.archive, idx, ap[0], o.tag); err != nil {
			return fmt.Errorf("--docker-archive %s: %w", o.archive, err)
		}
		fmt.Fprintf(stdout, "docker archive %s: %s %s (docker load -i %s)\n", o.archive, o.tag, o.archivePlatform, o.archive)
	}
	return nil
}

// buildBinary cross-compiles o.pkg for p: static, without paths of this
// machine or VCS data (-trimpath, -buildvcs=false), so the bytes depend on
// the source, the Go version and the stamps only.
func buildBinary(ctx context.Context, o *options, p v1.Platform, created time.Time, out string) error {
	ldflags := fmt.Sprintf("-s -w -X main.version=%s -X main.revision=%s -X main.buildDate=%s",
		o.version, o.revision, created.Format(time.RFC3339))
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, o.pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture)
	if p.Variant != "" && p.Architecture == "arm" {
		cmd.Env = append(cmd.Env, "GOARM="+strings.TrimPrefix(p.Variant, "v"))
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s for %s/%s: %w\n%s", o.pkg, p.OS, p.Architecture, err, msg)
	}
	return nil
}

// parsePlatforms reads OS/ARCH[/VARIANT] items; arm64 gets the variant v8
// registries and runtimes expect.
func parsePlatforms(s string) ([]v1.Platform, error) {
	var out []v1.Platform
	for _, item := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(item), "/")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("platform %q: want OS/ARCH, e.g. linux/amd64", item)
		}
		p := v1.Platform{OS: parts[0], Architecture: parts[1]}
		if len(parts) == 3 {
			p.Variant = parts[2]
		} else if p.Architecture == "arm64" {
			p.Variant = "v8"
		}
		out = append(out, p)
	}
	return out, nil
}
