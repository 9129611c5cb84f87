// Command gen writes the CRD reference: go run ./internal/crdref/gen
// -crds api/crds -out api/reference.md (what `make generate` runs).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/causeway-dev/causeway/internal/crdref"
)

func main() {
	dir := flag.String("crds", "api/crds", "directory of CustomResourceDefinition manifests")
	out := flag.String("out", "api/reference.md", "Markdown file to write")
	flag.Parse()
	if err := run(*dir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "crdref:", err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	crds, err := crdref.Load(os.DirFS(dir), ".")
	if err != nil {
		return err
	}
	if len(crds) == 0 {
		return fmt.Errorf("%s: no CustomResourceDefinition", dir)
	}
	text, err := crdref.Render(crds)
	if err != nil {
		return err
	}
	return os.WriteFile(out, []byte(text), 0o644)
}
