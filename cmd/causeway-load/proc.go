package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// serveProc is one `causeway serve` the tool started.
type serveProc struct {
	cmd                             *exec.Cmd
	done                            chan struct{}
	xdsAddr, metricsAddr, pprofAddr string
	logPath                         string
}

// freeAddr returns a loopback address with a free port.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServe starts bin serve with args plus the addresses, and waits for
// /readyz. The process gets its own group and dies with the tool.
// goMemLimit is its GOMEMLIMIT ("" for none, also not one inherited).
func startServe(bin, dir string, pprof bool, goMemLimit string, args ...string) (*serveProc, error) {
	p, err := launchServe(bin, dir, pprof, goMemLimit, args...)
	if err != nil {
		return nil, err
	}
	return p, p.waitReady()
}

// launchServe starts serve as startServe does, without waiting for it.
func launchServe(bin, dir string, pprof bool, goMemLimit string, args ...string) (*serveProc, error) {
	p := &serveProc{done: make(chan struct{}), logPath: dir + "/serve.log"}
	var err error
	if p.xdsAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	if p.metricsAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	args = append([]string{"serve", "--xds-insecure", "--xds-address", p.xdsAddr, "--metrics-address", p.metricsAddr,
		"--ca-dir", dir + "/ca", "--log-level", "warn", "--xds-max-streams-per-client", "100000"}, args...)
	if pprof {
		if p.pprofAddr, err = freeAddr(); err != nil {
			return nil, err
		}
		args = append(args, "--pprof-address", p.pprofAddr)
	}
	logf, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.Env = serveEnv(os.Environ(), goMemLimit)
	p.cmd.SysProcAttr = e2eutil.SysProcAttr()
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() { _ = p.cmd.Wait(); logf.Close(); close(p.done) }()
	return p, nil
}

// waitReady waits for serve's /readyz (5 minutes at most), and stops it
// when it does not come.
func (p *serveProc) waitReady() error {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		select {
		case <-p.done:
			return fmt.Errorf("causeway serve exited early:\n%s", e2eutil.FileTail(p.logPath, 20))
		default:
		}
		if e2eutil.HTTPOK("http://"+p.metricsAddr+"/readyz") == nil {
			return nil
		}
		if time.Now().After(deadline) {
			p.stop()
			return errors.New("causeway serve not ready within 5 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// serveEnv is env without GOMEMLIMIT, plus GOMEMLIMIT=goMemLimit if set,
// so that a figure labelled "no limit" is one.
func serveEnv(env []string, goMemLimit string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GOMEMLIMIT=") {
			out = append(out, kv)
		}
	}
	if goMemLimit != "" {
		out = append(out, "GOMEMLIMIT="+goMemLimit)
	}
	return out
}

func (p *serveProc) pid() int { return p.cmd.Process.Pid }

// stop sends SIGTERM to the process (by PID), then SIGKILL after a grace.
func (p *serveProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// procStatus reads a kB field (VmRSS, VmHWM) of /proc/<pid>/status in MiB.
func procStatus(pid int, field string) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}

// fetch GETs url into path (pprof profiles).
// cpuProfile fetches a CPU profile of p's next secs seconds into path in
// the background; the channel gets its error (nil when p has no pprof
// address: nothing is fetched).
func (p *serveProc) cpuProfile(ctx context.Context, secs int, path string) <-chan error {
	done := make(chan error, 1)
	if p.pprofAddr == "" {
		done <- nil
		return done
	}
	go func() {
		done <- fetch(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.pprofAddr, secs), path)
	}()
	return done
}

func fetch(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
