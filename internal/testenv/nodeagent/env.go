package nodeagent

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// defaultPath is what container images commonly set; the binaries run
// from the host's /usr.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// binaryFor maps an image to its local binary by repository (the image
// without tag or digest). An unknown image is an error naming it: the
// agent never runs something else in its place.
func (a *Agent) binaryFor(image string) (string, error) {
	repo := imageRepository(image)
	bin, ok := a.cfg.Images[repo]
	if !ok {
		return "", fmt.Errorf("image %q: repository %q is not one this node agent can run (known: %s)", image, repo, strings.Join(knownRepos(a.cfg.Images), ", "))
	}
	return bin, nil
}

func imageRepository(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	return image
}

func knownRepos(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// containerArgv is what the container runs, as a kubelet would: command
// replaces the image's entrypoint (which is the binary itself here, so a
// command must name the binary), args follow; $(VAR) references expand.
func containerArgv(c corev1.Container, binary string, env []envVar) ([]string, error) {
	lookup := map[string]string{}
	for _, e := range env {
		lookup[e.name] = e.value
	}
	var args []string
	if len(c.Command) > 0 {
		if filepath.Base(c.Command[0]) != filepath.Base(binary) {
			return nil, fmt.Errorf("container %s: command %q: this node agent runs only %s for image %s",
				c.Name, c.Command[0], filepath.Base(binary), c.Image)
		}
		args = append(args, c.Command[1:]...)
	}
	args = append(args, c.Args...)
	for i := range args {
		args[i] = expand(args[i], lookup)
	}
	return append([]string{containerBinary(binary)}, args...), nil
}

// expand replaces $(NAME) with the variable's value when it is defined;
// $$ is a literal $, as in Kubernetes.
func expand(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

type envVar struct{ name, value string }

func envList(env []envVar) []string {
	out := make([]string, 0, len(env)+2)
	seen := map[string]bool{}
	for _, e := range env {
		out = append(out, e.name+"="+e.value)
		seen[e.name] = true
	}
	if !seen["PATH"] {
		out = append(out, "PATH="+defaultPath)
	}
	return out
}

// containerEnv resolves the container's envFrom and env, in that order,
// later names winning, as a kubelet does.
func (p *podRuntime) containerEnv(c corev1.Container) ([]envVar, error) {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	var out []envVar
	vars := map[string]string{}
	set := func(name, value string) {
		if _, ok := vars[name]; ok {
			for i := range out {
				if out[i].name == name {
					out[i].value = value
				}
			}
		} else {
			out = append(out, envVar{name, value})
		}
		vars[name] = value
	}
	set("HOSTNAME", p.name)
	for _, src := range c.EnvFrom {
		data, err := p.envFromData(ctx, src)
		if err != nil {
			return nil, fmt.Errorf("container %s: envFrom: %w", c.Name, err)
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			set(src.Prefix+k, data[k])
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expand(e.Value, vars))
			continue
		}
		v, ok, err := p.envValueFrom(ctx, e.ValueFrom)
		if err != nil {
			return nil, fmt.Errorf("container %s: env %s: %w", c.Name, e.Name, err)
		}
		if ok {
			set(e.Name, v)
		}
	}
	return out, nil
}

func (p *podRuntime) envFromData(ctx context.Context, src corev1.EnvFromSource) (map[string]string, error) {
	core := p.a.cfg.Client.CoreV1()
	switch {
	case src.ConfigMapRef != nil:
		cm, err := core.ConfigMaps(p.namespace).Get(ctx, src.ConfigMapRef.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && optional(src.ConfigMapRef.Optional) {
				return nil, nil
			}
			return nil, fmt.Errorf("configmap %s/%s: %w", p.namespace, src.ConfigMapRef.Name, err)
		}
		return cm.Data, nil
	case src.SecretRef != nil:
		s, err := core.Secrets(p.namespace).Get(ctx, src.SecretRef.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && optional(src.SecretRef.Optional) {
				return nil, nil
			}
			return nil, fmt.Errorf("secret %s/%s: %w", p.namespace, src.SecretRef.Name, err)
		}
		out := map[string]string{}
		for k, v := range s.Data {
			out[k] = string(v)
		}
		return out, nil
	}
	return nil, nil
}

// envValueFrom resolves one valueFrom; ok is false for a missing optional
// key (the variable is then not set).
func (p *podRuntime) envValueFrom(ctx context.Context, src *corev1.EnvVarSource) (string, bool, error) {
	core := p.a.cfg.Client.CoreV1()
	switch {
	case src.FieldRef != nil:
		v, err := p.fieldValue(src.FieldRef.FieldPath)
		return v, err == nil, err
	case src.ConfigMapKeyRef != nil:
		r := src.ConfigMapKeyRef
		cm, err := core.ConfigMaps(p.namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && optional(r.Optional) {
				return "", false, nil
			}
			return "", false, fmt.Errorf("configmap %s/%s: %w", p.namespace, r.Name, err)
		}
		v, ok := cm.Data[r.Key]
		if !ok && !optional(r.Optional) {
			return "", false, fmt.Errorf("configmap %s/%s has no key %q", p.namespace, r.Name, r.Key)
		}
		return v, ok, nil
	case src.SecretKeyRef != nil:
		r := src.SecretKeyRef
		s, err := core.Secrets(p.namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && optional(r.Optional) {
				return "", false, nil
			}
			return "", false, fmt.Errorf("secret %s/%s: %w", p.namespace, r.Name, err)
		}
		v, ok := s.Data[r.Key]
		if !ok && !optional(r.Optional) {
			return "", false, fmt.Errorf("secret %s/%s has no key %q", p.namespace, r.Name, r.Key)
		}
		return string(v), ok, nil
	}
	return "", false, fmt.Errorf("valueFrom: only fieldRef, configMapKeyRef and secretKeyRef are supported")
}

// fieldValue is a downward-API field of the Pod.
func (p *podRuntime) fieldValue(path string) (string, error) {
	pod := p.pod
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.ip.String(), nil
	case "status.hostIP":
		return p.a.NodeAddress().String(), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	}
	for _, m := range []struct {
		prefix string
		values map[string]string
	}{{"metadata.labels['", pod.Labels}, {"metadata.annotations['", pod.Annotations}} {
		if strings.HasPrefix(path, m.prefix) && strings.HasSuffix(path, "']") {
			return m.values[strings.TrimSuffix(strings.TrimPrefix(path, m.prefix), "']")], nil
		}
	}
	return "", fmt.Errorf("fieldRef %q is not supported", path)
}

// formatMap renders labels or annotations as the downward API does.
func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q\n", k, m[k])
	}
	return b.String()
}

func optional(b *bool) bool { return b != nil && *b }
