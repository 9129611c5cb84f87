package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Stamped at build time by the Makefile (make build, make image):
//
//	go build -ldflags "-X main.version=v0.1.0 -X main.revision=<commit> -X main.buildDate=<RFC 3339>"
//
// Without them version stays "dev" and the revision comes from the VCS
// stamp go build adds in a git checkout (see resolveBuildInfo).
var (
	version   = "dev"
	revision  = ""
	buildDate = ""
)

// buildInfo says which build of Causeway this is.
type buildInfo struct {
	Version   string
	Revision  string // commit; empty when unknown
	Modified  bool   // built from a checkout with uncommitted changes (VCS stamp only)
	GoVersion string
	BuildDate string // empty unless stamped
	Platform  string // GOOS/GOARCH
}

// currentBuildInfo is this binary's build information.
func currentBuildInfo() buildInfo {
	bi, ok := debug.ReadBuildInfo()
	return resolveBuildInfo(buildInfo{Version: version, Revision: revision, BuildDate: buildDate}, bi, ok)
}

// resolveBuildInfo fills what -ldflags left unset from the Go build
// information: the module version (go install ...@v0.1.0) and the VCS
// revision go build records in a git checkout.
func resolveBuildInfo(stamped buildInfo, bi *debug.BuildInfo, ok bool) buildInfo {
	out := stamped
	out.GoVersion, out.Platform = runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH
	if out.Version == "" {
		out.Version = "dev"
	}
	if !ok || bi == nil {
		return out
	}
	if bi.GoVersion != "" {
		out.GoVersion = bi.GoVersion
	}
	if out.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		out.Version = bi.Main.Version
	}
	if out.Revision == "" {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				out.Revision = s.Value
			case "vcs.modified":
				out.Modified = s.Value == "true"
			}
		}
	}
	return out
}

// revisionText is the revision as shown, "unknown" when there is none.
func (b buildInfo) revisionText() string {
	switch {
	case b.Revision == "":
		return "unknown"
	case b.Modified:
		return b.Revision + "-dirty"
	}
	return b.Revision
}

// short is the one line --version prints after "causeway ".
func (b buildInfo) short() string {
	s := fmt.Sprintf("%s (revision %s, %s", b.Version, b.revisionText(), b.GoVersion)
	if b.BuildDate != "" {
		s += ", built " + b.BuildDate
	}
	return s + ")"
}

// write prints the details causeway version shows, one per line.
func (b buildInfo) write(w io.Writer) {
	fmt.Fprintf(w, "causeway %s\n", b.Version)
	fmt.Fprintf(w, "revision  %s\n", b.revisionText())
	fmt.Fprintf(w, "go        %s %s\n", b.GoVersion, b.Platform)
	if b.BuildDate != "" {
		fmt.Fprintf(w, "built     %s\n", b.BuildDate)
	}
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version, commit, Go version and build date",
		Example: "  causeway version\n  causeway --version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			currentBuildInfo().write(cmd.OutOrStdout())
			return nil
		},
	}
}
