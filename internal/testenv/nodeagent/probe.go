package nodeagent

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// probeLoop runs the readiness probe of the current run until it exits
// (exited closes), with the probe's delay, period and thresholds.
func (c *containerRuntime) probeLoop(exited <-chan struct{}) {
	pr := c.spec.ReadinessProbe
	if pr == nil {
		return
	}
	wait := func(d time.Duration) bool {
		select {
		case <-exited:
			return false
		case <-time.After(d):
			return true
		}
	}
	if !wait(time.Duration(pr.InitialDelaySeconds) * time.Second) {
		return
	}
	period := secondsOr(pr.PeriodSeconds, 10)
	timeout := secondsOr(pr.TimeoutSeconds, 1)
	successNeeded, failureNeeded := orDefault(pr.SuccessThreshold, 1), orDefault(pr.FailureThreshold, 3)
	var successes, failures int32
	for {
		err := c.probeOnce(pr, timeout)
		c.mu.Lock()
		changed := false
		if err == nil {
			successes, failures = successes+1, 0
			if !c.ready && successes >= successNeeded {
				c.ready, changed = true, true
			}
		} else {
			successes, failures = 0, failures+1
			if c.ready && failures >= failureNeeded {
				c.ready, changed = false, true
			}
		}
		c.mu.Unlock()
		if changed {
			c.p.markDirty()
		}
		if !wait(period) {
			return
		}
	}
}

func secondsOr(s int32, def int32) time.Duration {
	if s <= 0 {
		s = def
	}
	return time.Duration(s) * time.Second
}

func orDefault(v, def int32) int32 {
	if v <= 0 {
		return def
	}
	return v
}

// probeOnce runs one probe; nil is success.
func (c *containerRuntime) probeOnce(pr *corev1.Probe, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(c.p.ctx, timeout)
	defer cancel()
	c.p.mu.Lock()
	podIP := c.p.ip
	c.p.mu.Unlock()
	switch {
	case pr.HTTPGet != nil:
		g := pr.HTTPGet
		port, err := c.resolvePort(g.Port)
		if err != nil {
			return err
		}
		host := podIP.String()
		if g.Host != "" {
			host = g.Host
		}
		scheme := "http"
		if g.Scheme == corev1.URISchemeHTTPS {
			scheme = "https"
		}
		pathPart := g.Path
		if !strings.HasPrefix(pathPart, "/") {
			pathPart = "/" + pathPart
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+net.JoinHostPort(host, strconv.Itoa(port))+pathPart, nil)
		if err != nil {
			return err
		}
		req.Header.Set("User-Agent", "kube-probe/causeway-nodeagent")
		for _, h := range g.HTTPHeaders {
			if strings.EqualFold(h.Name, "Host") {
				req.Host = h.Value
			} else {
				req.Header.Add(h.Name, h.Value)
			}
		}
		client := &http.Client{Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // kubelet probes do not verify either
			DisableKeepAlives: true,
			Proxy:             nil,
		}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("HTTP probe: status %d", resp.StatusCode)
		}
		return nil
	case pr.TCPSocket != nil:
		port, err := c.resolvePort(pr.TCPSocket.Port)
		if err != nil {
			return err
		}
		host := podIP.String()
		if pr.TCPSocket.Host != "" {
			host = pr.TCPSocket.Host
		}
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return conn.Close()
	case pr.Exec != nil:
		pid := c.pid()
		if pid == 0 || len(pr.Exec.Command) == 0 {
			return fmt.Errorf("exec probe: container not running")
		}
		// The container's namespaces, root and working directory; its user.
		args := []string{"--target", strconv.Itoa(pid), "--mount", "--net", "--uts", "--root", "--wd"}
		if uid, gid, _, ok := c.p.runAs(c.spec); ok {
			args = append(args, "--setuid", strconv.FormatInt(uid, 10), "--setgid", strconv.FormatInt(gid, 10))
		}
		out, err := exec.CommandContext(ctx, "nsenter", append(append(args, "--"), pr.Exec.Command...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("exec probe: %v: %s", err, out)
		}
		return nil
	}
	return fmt.Errorf("probe: only httpGet, tcpSocket and exec are supported")
}

// resolvePort turns a number or a container port name into a number.
func (c *containerRuntime) resolvePort(p intstr.IntOrString) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range c.spec.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("container %s has no port named %q", c.spec.Name, p.StrVal)
}
