// Package image builds Causeway's container image without a container
// runtime: an OCI image index with one image per platform, each a scratch
// image holding the static causeway binary, minimal /etc/passwd and
// /etc/group for the non-root user 65532, and optionally a CA bundle.
// Every timestamp is the given creation time and every file's owner and
// mode are fixed, so the same binaries and inputs give the same digest.
// cmd/causeway-image (make image) cross-compiles the binaries and calls it.
package image
