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
	SweepDead(namePrefix, func(pid int, seq uint32, _ string) string { return hostLinkName(pid, seq) }, t.Logf)
}

// SweepDead removes every network namespace named
// <prefix><pid>-<seq>-<name> whose creating process <pid> has died: its
// processes are killed by PID, the host link hostLink names (if any) is
// deleted, then the namespace. It serves every package that names its
// namespaces this way (this one, and nodeagent with its own prefix), so a
// test killed by a -timeout panic does not leave a subnet held for the
// next run.
func SweepDead(prefix string, hostLink func(pid int, seq uint32, name string) string, logf func(string, ...any)) {
	out, err := ip("netns", "list")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], prefix) {
			continue
		}
		name := f[0]
		parts := strings.SplitN(strings.TrimPrefix(name, prefix), "-", 3)
		if len(parts) < 3 {
			continue
		}
		pid, err1 := strconv.Atoi(parts[0])
		n, err2 := strconv.ParseUint(parts[1], 10, 32)
		if err1 != nil || err2 != nil || pid <= 0 || alive(pid) {
			continue
		}
		// Processes in it were started by that dead test run.
		KillProcesses(name)
		if link := hostLink(pid, uint32(n), parts[2]); link != "" {
			_, _ = ip("link", "del", link)
		}
		if out, err := ip("netns", "del", name); err != nil {
			logf("netns: removing %s left by dead process %d: %v: %s", name, pid, err, out)
			continue
		}
		logf("netns: removed %s left by dead process %d", name, pid)
	}
}

// KillProcesses SIGKILLs, by PID, every process in the named namespace
// (never the calling process).
func KillProcesses(ns string) {
	out, err := ip("netns", "pids", ns)
	if err != nil {
		return
	}
	for _, s := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(s); err == nil && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func alive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
