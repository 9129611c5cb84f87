package file

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/model"
)

// secretDocument is a v1 Secret document as `kubectl create secret tls
// --dry-run=client -o yaml` prints it. data and stringData are decoded by
// hand: the generic decoder's errors quote the value at fault, and here
// that value is key material.
type secretDocument struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Type              corev1.SecretType `json:"type"`
	Immutable         *bool             `json:"immutable,omitempty"`
	Data              json.RawMessage   `json:"data,omitempty"`
	StringData        json.RawMessage   `json:"stringData,omitempty"`
}

// parseSecret reads a kubernetes.io/tls Secret into a model.Secret: its
// tls.crt and tls.key, from data (base64) or stringData (plain, winning
// over data as in Kubernetes). Whether the PEM is a usable certificate
// and key is the translator's call, as in Kubernetes mode, so a listener
// referencing a bad one says so in its status. No error message quotes
// the Secret's contents.
func (dp *docParser) parseSecret(data []byte) {
	var doc secretDocument
	if !dp.decodeStrict(data, &doc) {
		return
	}
	ok := dp.checkName(doc.Name)
	if doc.Type != corev1.SecretTypeTLS {
		dp.errorf("type", "want %s (the only Secrets Gateways use), got %q", corev1.SecretTypeTLS, truncate(string(doc.Type), 60))
		ok = false
	}
	values := map[string][]byte{}
	if len(doc.Data) > 0 {
		raw, good := dp.secretMap("data", doc.Data)
		ok = ok && good
		for k, v := range raw {
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				dp.errorf("data["+truncate(k, 60)+"]", "is not valid base64 (use stringData for plain PEM)")
				ok = false
				continue
			}
			values[k] = b
		}
	}
	if len(doc.StringData) > 0 {
		raw, good := dp.secretMap("stringData", doc.StringData)
		ok = ok && good
		for k, v := range raw {
			values[k] = []byte(v)
		}
	}
	for _, k := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
		if len(values[k]) == 0 && ok {
			dp.errorf("data", "%s is required in data or stringData of a %s Secret", k, corev1.SecretTypeTLS)
			ok = false
		}
	}
	if !ok {
		return
	}
	sec := model.Secret{Namespace: dp.ref.namespace, Name: doc.Name, CertPEM: values[corev1.TLSCertKey], KeyPEM: values[corev1.TLSPrivateKeyKey]}
	dp.accept(fmt.Sprintf("Secret %s/%s", sec.Namespace, sec.Name), func(p *parser, _ docRef) {
		p.world.Secrets = append(p.world.Secrets, sec)
	})
}

// secretMap decodes field (data or stringData) as a map of strings,
// reporting a wrong shape without quoting anything but key names.
func (dp *docParser) secretMap(field string, raw json.RawMessage) (map[string]string, bool) {
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		dp.errorf(field, "want a map of key to string")
		return nil, false
	}
	out := make(map[string]string, len(generic))
	ok := true
	for _, k := range slices.Sorted(maps.Keys(generic)) {
		s, isString := generic[k].(string)
		if !isString {
			dp.errorf(field+"["+truncate(k, 60)+"]", "want a string")
			ok = false
			continue
		}
		out[k] = s
	}
	return out, ok
}
