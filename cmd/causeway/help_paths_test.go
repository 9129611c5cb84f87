package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestHelpPathsExist: every repository path a command's help mentions
// (Long, Example, flag usage) exists, so a newcomer copying an example
// does not hit a missing file. A word counts as a repository path when its
// first element is a top-level entry of the repository (examples/,
// api/, ...); placeholders such as clusters.yaml or gw1/ca.pem are not.
func TestHelpPathsExist(t *testing.T) {
	root := repoRoot(t)
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	top := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			top[e.Name()] = true
		}
	}
	checked := 0
	walkCommands(newRootCommand(), func(cmd *cobra.Command) {
		texts := []string{cmd.Long, cmd.Example}
		cmd.Flags().VisitAll(func(f *pflag.Flag) { texts = append(texts, f.Usage) })
		for _, text := range texts {
			for _, p := range repoPaths(text, top) {
				checked++
				if _, err := os.Stat(filepath.Join(root, p)); err != nil {
					t.Errorf("%q help mentions %s, which is not in the repository", cmd.CommandPath(), p)
				}
			}
		}
	})
	if checked == 0 {
		t.Fatal("no repository path found in any help text; the scan is broken")
	}
}

// TestRepoPaths pins what counts as a repository path in help text.
func TestRepoPaths(t *testing.T) {
	top := map[string]bool{"examples": true, "api": true}
	got := repoPaths("causeway serve --world examples/world.yaml --kube c1=./examples/demo, see api/crds. "+
		"world.yaml gw1/ca.pem /etc/causeway/ca.pem manifests/cluster-1 (examples/kubernetes/workload-cluster)", top)
	want := []string{"examples/world.yaml", "examples/demo", "api/crds", "examples/kubernetes/workload-cluster"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("repoPaths = %q, want %q", got, want)
	}
}

// repoPaths returns the words of text that name a path under one of the
// top-level directories in top.
func repoPaths(text string, top map[string]bool) []string {
	var paths []string
	for _, word := range strings.Fields(text) {
		if _, v, ok := strings.Cut(word, "="); ok { // --kube CLUSTER=PATH, --flag=PATH
			word = v
		}
		word = strings.TrimLeft(word, "`'\"([")
		word = strings.TrimRight(word, "`'\")],;:.")
		word = strings.TrimPrefix(word, "./")
		first, _, ok := strings.Cut(word, "/")
		if ok && top[first] {
			paths = append(paths, word)
		}
	}
	return paths
}

func walkCommands(cmd *cobra.Command, visit func(*cobra.Command)) {
	visit(cmd)
	for _, c := range cmd.Commands() {
		walkCommands(c, visit)
	}
}

// repoRoot is the directory holding go.mod, above the test's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// TestFlagValueNames: pflag takes a flag's value name from the first
// backquoted word of its usage, so a backquoted phrase in the text shows up
// as "--flag authorization: Bearer". Every value name is one word.
func TestFlagValueNames(t *testing.T) {
	walkCommands(newRootCommand(), func(cmd *cobra.Command) {
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			name, _ := pflag.UnquoteUsage(f)
			if strings.ContainsAny(name, " :\"<>") {
				t.Errorf("%s --%s: value name %q in help; backquote only the value name", cmd.CommandPath(), f.Name, name)
			}
		})
	})
	// The flag the issue reported, as --help renders it.
	_, out, _ := causeway(t, "bootstrap", "--help")
	if !strings.Contains(out, "--xds-token-file path ") {
		t.Errorf("bootstrap --help does not show --xds-token-file's value name as path:\n%s", out)
	}
}
