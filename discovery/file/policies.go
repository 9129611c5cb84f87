package file

import (
	"fmt"
	"time"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/discovery/apiconv"
	"github.com/causeway-dev/causeway/model"
)

// fieldErrors records errs against document d and reports whether there
// were none.
func (p *parser) fieldErrors(d docRef, errs []apiconv.FieldError) bool {
	for _, e := range errs {
		p.errorf(d, e.Field, "%s", e.Message)
	}
	return len(errs) == 0
}

// age is the document's model.Age: its position in the file, and its
// metadata.creationTimestamp when given (then it decides, as in Kubernetes).
func (p *parser) age(d docRef, timestamp string) (model.Age, bool) {
	age := model.Age{Seq: d.index}
	if timestamp == "" {
		return age, true
	}
	t, err := time.Parse(time.RFC3339, timestamp)
	if err != nil {
		p.errorf(d, "metadata.creationTimestamp", "%q is not an RFC 3339 time (like 2024-05-01T10:00:00Z)", timestamp)
		return age, false
	}
	age.CreationTimestamp = t
	return age, true
}

// The policy kinds are decoded straight into the API types (the world file
// and the CRDs share one format) and checked as the CRDs would check them.

// parseVirtualDestination converts the document as discovery/kube converts
// the object; only its Age is the world file's own.
func (p *parser) parseVirtualDestination(d docRef, data []byte) {
	var doc virtualDestinationDoc
	if !p.decodeStrict(d, data, &doc) {
		return
	}
	vd := doc.VirtualDestination
	vd.ObjectMeta = doc.Metadata.ObjectMeta
	vd.Namespace = d.namespace
	ok := p.checkName(d, vd.Name)
	age, ageOK := p.age(d, doc.Metadata.CreationTimestamp)
	out, errs := apiconv.VirtualDestination(&vd)
	out.Age = age
	ok = p.fieldErrors(d, errs) && ok && ageOK
	if ok && p.unique(d, fmt.Sprintf("VirtualDestination %s/%s", out.Namespace, out.Name)) {
		p.world.VirtualDestinations = append(p.world.VirtualDestinations, out)
	}
}

// namespacedCR is a Causeway custom resource as decoded from a document.
type namespacedCR[T any] interface {
	*T
	GetName() string
	GetNamespace() string
	SetNamespace(string)
}

// parseNamespacedCR decodes one namespaced Causeway resource strictly,
// checks its name, places it in the document's namespace, validates it
// with the checks the CRD's admission applies (apiconv) and, when all is
// well and it is not a duplicate, hands it to add.
func parseNamespacedCR[T any, PT namespacedCR[T]](p *parser, d docRef, data []byte, kind string, validate func(PT) []apiconv.FieldError, add func(PT)) {
	obj := PT(new(T))
	if !p.decodeStrict(d, data, obj) {
		return
	}
	ok := p.checkName(d, obj.GetName())
	obj.SetNamespace(d.namespace)
	ok = p.fieldErrors(d, validate(obj)) && ok
	if ok && p.unique(d, fmt.Sprintf("%s %s/%s", kind, obj.GetNamespace(), obj.GetName())) {
		add(obj)
	}
}

func (p *parser) parseExternalService(d docRef, data []byte) {
	parseNamespacedCR(p, d, data, "ExternalService", apiconv.ExternalService, func(es *v1alpha1.ExternalService) {
		p.world.ExternalServices = append(p.world.ExternalServices, es)
	})
}

func (p *parser) parseFailoverPolicy(d docRef, data []byte) {
	parseNamespacedCR(p, d, data, "FailoverPolicy", apiconv.FailoverPolicy, func(fp *v1alpha1.FailoverPolicy) {
		p.world.FailoverPolicies = append(p.world.FailoverPolicies, fp)
	})
}

func (p *parser) parseOutlierDetectionPolicy(d docRef, data []byte) {
	parseNamespacedCR(p, d, data, "OutlierDetectionPolicy", apiconv.OutlierDetectionPolicy, func(odp *v1alpha1.OutlierDetectionPolicy) {
		p.world.OutlierDetectionPolicies = append(p.world.OutlierDetectionPolicies, odp)
	})
}

// parseWorkspace reads a Workspace, cluster-scoped like its CRD: a
// namespace would suggest it is confined to one, so it is an error.
func (p *parser) parseWorkspace(d docRef, data []byte) {
	var ws v1alpha1.Workspace
	if !p.decodeStrict(d, data, &ws) {
		return
	}
	ok := p.checkName(d, ws.Name)
	if ws.Namespace != "" {
		p.errorf(d, "metadata.namespace", "Workspace is cluster-scoped; remove the namespace")
		ok = false
	}
	out, errs := apiconv.Workspace(&ws)
	ok = p.fieldErrors(d, errs) && ok
	if ok && p.unique(d, "Workspace "+ws.Name) {
		p.world.Workspaces = append(p.world.Workspaces, out)
	}
}
