package netns

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// sweep removes namespaces this package created in test processes that
// have since died without their cleanups: left alone, their host links
// would keep their subnets and break the next run. Namespaces of live
// processes, including other test binaries running now, are not touched.
func sweep(t testing.TB) {
	out, err := ip("netns", "list")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], namePrefix) {
			continue
		}
		name := f[0]
		// cw-<pid>-<seq>-<name>
		parts := strings.SplitN(strings.TrimPrefix(name, namePrefix), "-", 3)
		if len(parts) < 3 {
			continue
		}
		pid, err1 := strconv.Atoi(parts[0])
		n, err2 := strconv.ParseUint(parts[1], 10, 32)
		if err1 != nil || err2 != nil || pid <= 0 || alive(pid) {
			continue
		}
		// Processes in it were started by that dead test run.
		if pids, err := ip("netns", "pids", name); err == nil {
			for _, s := range strings.Fields(string(pids)) {
				if p, err := strconv.Atoi(s); err == nil {
					_ = syscall.Kill(p, syscall.SIGKILL)
				}
			}
		}
		_, _ = ip("link", "del", hostLinkName(pid, uint32(n)))
		if out, err := ip("netns", "del", name); err != nil {
			t.Logf("netns: removing %s left by dead process %d: %v: %s", name, pid, err, out)
			continue
		}
		t.Logf("netns: removed %s left by dead process %d", name, pid)
	}
}

func alive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
