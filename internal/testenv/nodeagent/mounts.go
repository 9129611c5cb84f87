package nodeagent

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// privateDir is the container root's own directory (on its tmpfs) for the
// image binary and overlay layers.
const privateDir = "/.causeway"

// containerBinary is where the image's binary appears inside the container.
func containerBinary(binary string) string {
	return privateDir + "/bin/" + filepath.Base(binary)
}

// rootScript is the shell script that, run as root in the container's own
// mount namespace (and the Pod's network namespace), builds the
// container's root at root and execs the container's argv ("$@") there,
// as its user. See doc.go for the layout.
func (p *podRuntime) rootScript(c corev1.Container, root, binary string) (string, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	bin, err := filepath.EvalSymlinks(binary)
	if err != nil {
		return "", fmt.Errorf("image %s: binary %s: %w", c.Image, binary, err)
	}
	var s strings.Builder
	line := func(args ...string) {
		for i, a := range args {
			if i > 0 {
				s.WriteByte(' ')
			}
			s.WriteString(a)
		}
		s.WriteByte('\n')
	}
	line("set -e")
	line("cd", shq(root))
	line("mount -t tmpfs -o mode=0755 cw-root .")
	line("cd", shq(root)) // the tmpfs, not the directory under it
	entries, err := os.ReadDir("/")
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == "tmp":
			line("mkdir tmp && mount -t tmpfs -o mode=1777 cw-tmp tmp")
		case e.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink("/" + name)
			if err != nil {
				return "", err
			}
			line("ln -s", shq(target), shq(name))
		case e.IsDir():
			line("mkdir", shq(name), "&& mount --rbind", shq("/"+name), shq(name))
		}
	}
	// An image binary installed under the host's /tmp (a checkout cloned
	// there: .venv/bin/envoy is a Python wrapper whose interpreter and
	// package live beside it) stays reachable at its own path, read-only,
	// under the container's fresh /tmp.
	for _, dir := range tmpInstallDirs(binary, bin) {
		line("mkdir -p", shq("."+dir), "&& mount --bind", shq(dir), shq("."+dir), "&& mount -o remount,bind,ro", shq("."+dir))
	}
	// Envoy keeps hot-restart shared memory in /dev/shm: one per container.
	line("mount -t tmpfs -o mode=1777 cw-shm dev/shm")
	line("mkdir -p", shq("."+privateDir+"/bin"), "&& touch", shq("."+containerBinary(binary)))
	line("mount --bind", shq(bin), shq("."+containerBinary(binary)))

	mounts, err := p.placeMounts(c)
	if err != nil {
		return "", err
	}
	overlays := map[string]bool{}
	for _, m := range mounts {
		if m.overlay != "" && !overlays[m.overlay] {
			n := strconv.Itoa(len(overlays))
			up, work := "."+privateDir+"/overlay/"+n+"/upper", "."+privateDir+"/overlay/"+n+"/work"
			line("mkdir -p", shq(up), shq(work))
			line("mount -t overlay cw-overlay -o", shq("lowerdir=."+m.overlay+",upperdir="+up+",workdir="+work), shq("."+m.overlay))
			overlays[m.overlay] = true
		}
		target := shq("." + m.target)
		if m.source == "" {
			line("mkdir -p", target)
			continue
		}
		if fi, err := os.Stat(m.source); err == nil && !fi.IsDir() {
			line("mkdir -p", shq("."+path.Dir(m.target)), "&& { [ -e", target, "] || touch", target, "; }")
		} else {
			line("mkdir -p", target)
		}
		line("mount --bind", shq(m.source), target)
		if m.readOnly {
			line("mount -o remount,bind,ro", target)
		}
	}
	line("hostname", shq(p.hostname()))
	wd := c.WorkingDir
	if wd == "" {
		wd = "/"
	}
	user := ""
	if uid, gid, groups, ok := p.runAs(c); ok {
		user = fmt.Sprintf("/usr/bin/setpriv --reuid=%d --regid=%d %s --pdeathsig=KILL --", uid, gid, groups)
	}
	line(`exec chroot . /bin/sh -c 'cd "$1" && shift && exec "$@"' container`, shq(wd), user, `"$@"`)
	return s.String(), nil
}

// placedMount is a volume mount resolved against the container root.
type placedMount struct {
	source   string // host path; empty: only create target (a workingDir)
	target   string // absolute path in the root, symlinks resolved
	overlay  string // directory to overlay first, so target can be created
	readOnly bool
}

// placeMounts resolves each mount's target like the root will (it mirrors
// the host's top-level directories, with a fresh /tmp) and decides where
// an overlay is needed: a target that does not exist on the host needs
// its deepest existing ancestor overlaid (a tmpfs upper layer), so
// creating it never writes to the host. Shallower targets come first.
func (p *podRuntime) placeMounts(c corev1.Container) ([]placedMount, error) {
	vols := map[string]bool{}
	for _, v := range p.pod.Spec.Volumes {
		vols[v.Name] = true
	}
	var out []placedMount
	vms := append([]corev1.VolumeMount(nil), c.VolumeMounts...)
	sort.SliceStable(vms, func(i, j int) bool { return depth(vms[i].MountPath) < depth(vms[j].MountPath) })
	for _, vm := range vms {
		if !vols[vm.Name] {
			return nil, fmt.Errorf("container %s: volumeMount %s: no volume of that name in the pod", c.Name, vm.Name)
		}
		if !path.IsAbs(vm.MountPath) {
			return nil, fmt.Errorf("container %s: volumeMount %s: mountPath %q is not absolute", c.Name, vm.Name, vm.MountPath)
		}
		src := p.volumeDir(vm.Name)
		if vm.SubPath != "" {
			if strings.Contains(vm.SubPath, "..") || path.IsAbs(vm.SubPath) {
				return nil, fmt.Errorf("container %s: volumeMount %s: subPath %q must be relative without ..", c.Name, vm.Name, vm.SubPath)
			}
			src = filepath.Join(src, vm.SubPath)
		}
		target, overlay := place(vm.MountPath, out)
		out = append(out, placedMount{source: src, target: target, overlay: overlay, readOnly: vm.ReadOnly})
	}
	if c.WorkingDir != "" {
		if target, overlay := place(c.WorkingDir, out); overlay != "" || !exists(target) {
			out = append(out, placedMount{target: target, overlay: overlay})
		}
	}
	return out, nil
}

// place resolves p component by component on the host; see placeMounts.
// Targets inside earlier mounts are created there (in the volume).
func place(p string, earlier []placedMount) (target, overlay string) {
	comps := strings.Split(strings.Trim(path.Clean(p), "/"), "/")
	cur := "/"
	for i, comp := range comps {
		next := path.Join(cur, comp)
		for _, m := range earlier {
			if next == m.target {
				return path.Join(append([]string{next}, comps[i+1:]...)...), ""
			}
		}
		if cur == "/" && (comp == "tmp" || "/"+comp == privateDir) {
			return path.Join(append([]string{next}, comps[i+1:]...)...), "" // on a tmpfs of the container
		}
		if _, err := os.Lstat(next); err != nil {
			rest := path.Join(append([]string{cur}, comps[i:]...)...)
			if cur == "/" {
				return rest, "" // the root itself is the container's tmpfs
			}
			return rest, cur
		}
		resolved, err := filepath.EvalSymlinks(next)
		if err != nil {
			resolved = next
		}
		cur = resolved
	}
	return cur, ""
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func depth(p string) int { return strings.Count(path.Clean(p), "/") }

// runAs is the container's user and groups when it sets one (container
// securityContext over the Pod's); ok false: run as root.
func (p *podRuntime) runAs(c corev1.Container) (uid, gid int64, groups string, ok bool) {
	var u, g *int64
	if sc := p.pod.Spec.SecurityContext; sc != nil {
		u, g = sc.RunAsUser, sc.RunAsGroup
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			u = sc.RunAsUser
		}
		if sc.RunAsGroup != nil {
			g = sc.RunAsGroup
		}
	}
	if u == nil && g == nil {
		return 0, 0, "", false
	}
	if u != nil {
		uid = *u
	}
	if g != nil {
		gid = *g
	}
	var extra []string
	if sc := p.pod.Spec.SecurityContext; sc != nil {
		if sc.FSGroup != nil {
			extra = append(extra, strconv.FormatInt(*sc.FSGroup, 10))
		}
		for _, sg := range sc.SupplementalGroups {
			extra = append(extra, strconv.FormatInt(sg, 10))
		}
	}
	groups = "--clear-groups"
	if len(extra) > 0 {
		groups = "--groups=" + strings.Join(extra, ",")
	}
	return uid, gid, groups, true
}

func (p *podRuntime) hostname() string {
	h := p.pod.Spec.Hostname
	if h == "" {
		h = p.name
	}
	return shorten(h, 63)
}

// shq quotes s for sh.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// tmpInstallDirs returns, for binaries under /tmp, the directories right
// under /tmp that hold them (each once, sorted): what a container must see
// of the host's /tmp for them to run.
func tmpInstallDirs(binaries ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, b := range binaries {
		rest, ok := strings.CutPrefix(path.Clean(b), "/tmp/")
		if !ok {
			continue
		}
		top, _, _ := strings.Cut(rest, "/")
		if dir := "/tmp/" + top; top != "" && !seen[dir] {
			seen[dir] = true
			out = append(out, dir)
		}
	}
	sort.Strings(out)
	return out
}
