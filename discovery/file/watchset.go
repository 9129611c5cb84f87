package file

import (
	"io/fs"
	"os"
	"path/filepath"
)

// maxLinks bounds the symlinks followed from the world file's path (the
// kernel's own limit is 40; a ConfigMap mount has two).
const maxLinks = 8

// watchSet is what a watcher listens to for one world file path: the
// directories holding the file and each symlink on the way to it, and
// the names in them whose change can change what the path reads. Every
// path is under its directory's real path (symlinks resolved), as
// fsnotify names events of a directory added by that path.
type watchSet struct {
	dirs  map[string]bool
	names map[string]bool
}

// resolveWatchSet follows path's symlinks as they are now. A Kubernetes
// ConfigMap mount makes world.yaml a symlink to ..data/world.yaml, ..data
// a symlink to a timestamped directory, and updates by renaming a new
// ..data over the old one: the set holds world.yaml, ..data and the file
// in the current timestamped directory. The watcher resolves it again
// before each load, following the swap.
func resolveWatchSet(path string) watchSet {
	ws := watchSet{dirs: map[string]bool{}, names: map[string]bool{}}
	p, err := filepath.Abs(path)
	if err != nil {
		p = filepath.Clean(path)
	}
	for range maxLinks {
		ws.add(p)
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			break
		}
		target, err := os.Readlink(p)
		if err != nil {
			break
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		// A directory symlink on the way (..data) changes what the path
		// reads when it is replaced: its name counts where it is watched.
		for q := filepath.Dir(target); q != filepath.Dir(q); q = filepath.Dir(q) {
			if ws.dirs[realDir(filepath.Dir(q))] {
				ws.names[realName(q)] = true
			}
		}
		p = target
	}
	return ws
}

func (ws watchSet) add(p string) {
	ws.dirs[realDir(filepath.Dir(p))] = true
	ws.names[realName(p)] = true
}

// realName is p under its directory's real path.
func realName(p string) string {
	return filepath.Join(realDir(filepath.Dir(p)), filepath.Base(p))
}

// realDir is d with symlinks resolved, or d itself when it does not
// exist (yet).
func realDir(d string) string {
	if r, err := filepath.EvalSymlinks(d); err == nil {
		return r
	}
	return filepath.Clean(d)
}
