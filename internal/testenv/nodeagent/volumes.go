package nodeagent

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// defaultTokenSeconds is a projected token's lifetime when the Pod does
// not ask for one (the API's default).
const defaultTokenSeconds = 3600

func (p *podRuntime) volumeDir(name string) string { return filepath.Join(p.dir, "volumes", name) }

// volumeFile is one file of a volume: path relative to the volume, mode.
type volumeFile struct {
	path string
	data []byte
	mode os.FileMode
}

// materializeVolumes writes every volume of the Pod under its directory
// and starts the refresh of projected tokens. Files belong to the Pod's
// user (and fsGroup) when it sets one, so an unprivileged container can
// read them whatever their mode.
func (p *podRuntime) materializeVolumes() error {
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	var refreshers []func() // token renewals, started once every volume is there
	for _, v := range p.pod.Spec.Volumes {
		dir := p.volumeDir(v.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		var files []volumeFile
		var err error
		switch {
		case v.EmptyDir != nil:
			err = os.Chmod(dir, 0o777) // as a kubelet makes it: any user may write
		case v.ConfigMap != nil:
			files, err = p.configMapFiles(ctx, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.DefaultMode, v.ConfigMap.Optional)
		case v.Secret != nil:
			files, err = p.secretFiles(ctx, v.Secret.SecretName, v.Secret.Items, v.Secret.DefaultMode, v.Secret.Optional)
		case v.DownwardAPI != nil:
			files, err = p.downwardFiles(v.DownwardAPI.Items, v.DownwardAPI.DefaultMode)
		case v.Projected != nil:
			files, err = p.projectedFiles(ctx, v.Name, v.Projected, &refreshers)
		default:
			err = fmt.Errorf("only emptyDir, configMap, secret, downwardAPI and projected volumes are supported")
		}
		if err == nil {
			err = p.writeFiles(dir, files)
		}
		if err != nil {
			return fmt.Errorf("pod %s/%s: volume %s: %w", p.namespace, p.name, v.Name, err)
		}
	}
	for _, r := range refreshers {
		// Counted with the agent's goroutines (the Pod worker holds one,
		// so adding is safe): none may log after the test ends.
		p.a.wg.Add(1)
		go func() { defer p.a.wg.Done(); r() }()
	}
	return nil
}

func (p *podRuntime) writeFiles(dir string, files []volumeFile) error {
	uid, gid := p.fileOwner()
	for _, f := range files {
		if strings.Contains(f.path, "..") || path.IsAbs(f.path) {
			return fmt.Errorf("path %q must be relative without ..", f.path)
		}
		full := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		// Rename over the old file: a reader never sees half a token.
		tmp := full + ".tmp"
		if err := os.WriteFile(tmp, f.data, f.mode); err != nil {
			return err
		}
		if err := os.Chmod(tmp, f.mode); err != nil { // umask
			return err
		}
		if uid >= 0 || gid >= 0 {
			if err := os.Chown(tmp, uid, gid); err != nil {
				return err
			}
		}
		if err := os.Rename(tmp, full); err != nil {
			return err
		}
	}
	return nil
}

// fileOwner: runAsUser and fsGroup (else runAsGroup) of the Pod, -1 for
// unset.
func (p *podRuntime) fileOwner() (int, int) {
	uid, gid := -1, -1
	if sc := p.pod.Spec.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			uid = int(*sc.RunAsUser)
		}
		if sc.FSGroup != nil {
			gid = int(*sc.FSGroup)
		} else if sc.RunAsGroup != nil {
			gid = int(*sc.RunAsGroup)
		}
	}
	return uid, gid
}

func mode(m *int32, def os.FileMode) os.FileMode {
	if m == nil {
		return def
	}
	return os.FileMode(*m) & 0o777
}

// keyFiles turns data into files: every key, or only items (key -> path,
// mode), a missing item key being an error unless optional.
func keyFiles(kind, name string, data map[string][]byte, items []corev1.KeyToPath, defaultMode *int32, opt bool) ([]volumeFile, error) {
	def := mode(defaultMode, 0o644)
	var out []volumeFile
	if len(items) == 0 {
		for k, v := range data {
			out = append(out, volumeFile{path: k, data: v, mode: def})
		}
		return out, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if opt {
				continue
			}
			return nil, fmt.Errorf("%s %s has no key %q", kind, name, it.Key)
		}
		out = append(out, volumeFile{path: it.Path, data: v, mode: mode(it.Mode, def)})
	}
	return out, nil
}

func (p *podRuntime) configMapFiles(ctx context.Context, name string, items []corev1.KeyToPath, defaultMode *int32, optional *bool) ([]volumeFile, error) {
	cm, err := p.a.cfg.Client.CoreV1().ConfigMaps(p.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) && optional != nil && *optional {
			return nil, nil
		}
		return nil, fmt.Errorf("configmap %s/%s: %w", p.namespace, name, err)
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return keyFiles("configmap", p.namespace+"/"+name, data, items, defaultMode, optional != nil && *optional)
}

func (p *podRuntime) secretFiles(ctx context.Context, name string, items []corev1.KeyToPath, defaultMode *int32, optional *bool) ([]volumeFile, error) {
	s, err := p.a.cfg.Client.CoreV1().Secrets(p.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) && optional != nil && *optional {
			return nil, nil
		}
		return nil, fmt.Errorf("secret %s/%s: %w", p.namespace, name, err)
	}
	return keyFiles("secret", p.namespace+"/"+name, s.Data, items, defaultMode, optional != nil && *optional)
}

func (p *podRuntime) downwardFiles(items []corev1.DownwardAPIVolumeFile, defaultMode *int32) ([]volumeFile, error) {
	def := mode(defaultMode, 0o644)
	var out []volumeFile
	for _, it := range items {
		if it.FieldRef == nil {
			return nil, fmt.Errorf("downwardAPI item %s: only fieldRef is supported", it.Path)
		}
		v, err := p.fieldValue(it.FieldRef.FieldPath)
		if err != nil {
			return nil, fmt.Errorf("downwardAPI item %s: %w", it.Path, err)
		}
		out = append(out, volumeFile{path: it.Path, data: []byte(v), mode: mode(it.Mode, def)})
	}
	return out, nil
}

func (p *podRuntime) projectedFiles(ctx context.Context, volume string, v *corev1.ProjectedVolumeSource, refreshers *[]func()) ([]volumeFile, error) {
	var out []volumeFile
	for i, src := range v.Sources {
		var files []volumeFile
		var err error
		switch {
		case src.ConfigMap != nil:
			files, err = p.configMapFiles(ctx, src.ConfigMap.Name, src.ConfigMap.Items, v.DefaultMode, src.ConfigMap.Optional)
		case src.Secret != nil:
			files, err = p.secretFiles(ctx, src.Secret.Name, src.Secret.Items, v.DefaultMode, src.Secret.Optional)
		case src.DownwardAPI != nil:
			files, err = p.downwardFiles(src.DownwardAPI.Items, v.DefaultMode)
		case src.ServiceAccountToken != nil:
			var f volumeFile
			var refreshIn time.Duration
			f, refreshIn, err = p.token(ctx, src.ServiceAccountToken, v.DefaultMode)
			if err == nil {
				files = []volumeFile{f}
				tok := src.ServiceAccountToken
				*refreshers = append(*refreshers, func() { p.refreshToken(volume, tok, v.DefaultMode, refreshIn) })
			}
		default:
			err = fmt.Errorf("source %d: only configMap, secret, downwardAPI and serviceAccountToken are supported", i)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	return out, nil
}

// token asks the TokenRequest API for a token bound to the Pod; refreshIn
// is 80% of its lifetime, when a kubelet renews it.
func (p *podRuntime) token(ctx context.Context, src *corev1.ServiceAccountTokenProjection, defaultMode *int32) (volumeFile, time.Duration, error) {
	sa := p.pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	seconds := int64(defaultTokenSeconds)
	if src.ExpirationSeconds != nil {
		seconds = *src.ExpirationSeconds
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: &seconds,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: p.name, UID: p.uid},
	}}
	if src.Audience != "" {
		req.Spec.Audiences = []string{src.Audience}
	}
	resp, err := p.a.cfg.Client.CoreV1().ServiceAccounts(p.namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return volumeFile{}, 0, fmt.Errorf("token for serviceaccount %s/%s: %w", p.namespace, sa, err)
	}
	life := time.Until(resp.Status.ExpirationTimestamp.Time)
	refreshIn := max(life*8/10, time.Second)
	return volumeFile{path: src.Path, data: []byte(resp.Status.Token), mode: mode(defaultMode, 0o644)}, refreshIn, nil
}

// refreshToken rewrites the token file at 80% of each token's lifetime
// until the Pod ends; a failed request is retried after a few seconds.
func (p *podRuntime) refreshToken(volume string, src *corev1.ServiceAccountTokenProjection, defaultMode *int32, in time.Duration) {
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-time.After(in):
		}
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		f, next, err := p.token(ctx, src, defaultMode)
		cancel()
		if err == nil {
			err = p.writeFiles(p.volumeDir(volume), []volumeFile{f})
		}
		if err != nil {
			if p.ctx.Err() == nil {
				p.a.logf("nodeagent: pod %s/%s: refreshing token in volume %s: %v", p.namespace, p.name, volume, err)
			}
			next = 5 * time.Second
		}
		in = next
	}
}
