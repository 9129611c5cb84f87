// Package crds embeds Causeway's generated CustomResourceDefinitions
// (`make generate` writes them from api/v1alpha1), so tests and tools
// install exactly what users install.
package crds

import "embed"

// FS holds one CRD manifest per file. Only the generated files are
// embedded (not kustomization.yaml), so every file in FS is a CRD.
//
//go:embed networking.causeway.dev_*.yaml
var FS embed.FS
