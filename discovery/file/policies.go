package file

import (
	"fmt"
	"time"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/discovery/apiconv"
	"github.com/causeway-dev/causeway/model"
)

// fieldErrors records errs against the document and reports whether there
// were none.
func (dp *docParser) fieldErrors(errs []apiconv.FieldError) bool {
	for _, e := range errs {
		dp.errorf(e.Field, "%s", e.Message)
	}
	return len(errs) == 0
}

// age is the document's model.Age: its metadata.creationTimestamp when
// given (then it decides, as in Kubernetes), and its position in the file,
// which the parser sets (Seq) when it adds the document.
func (dp *docParser) age(timestamp string) (model.Age, bool) {
	var age model.Age
	if timestamp == "" {
		return age, true
	}
	t, err := time.Parse(time.RFC3339, timestamp)
	if err != nil {
		dp.errorf("metadata.creationTimestamp", "%q is not an RFC 3339 time (like 2024-05-01T10:00:00Z)", timestamp)
		return age, false
	}
	age.CreationTimestamp = t
	return age, true
}

// The policy kinds are decoded straight into the API types (the world file
// and the CRDs share one format) and checked as the CRDs would check them.

// parseVirtualDestination converts the document as discovery/kube converts
// the object; only its Age is the world file's own.
func (dp *docParser) parseVirtualDestination(data []byte) {
	var doc virtualDestinationDoc
	if !dp.decodeStrict(data, &doc) {
		return
	}
	vd := doc.VirtualDestination
	vd.ObjectMeta = doc.Metadata.ObjectMeta
	vd.Namespace = dp.ref.namespace
	ok := dp.checkName(vd.Name)
	age, ageOK := dp.age(doc.Metadata.CreationTimestamp)
	out, errs := apiconv.VirtualDestination(&vd)
	out.Age = age
	ok = dp.fieldErrors(errs) && ok && ageOK
	if ok {
		dp.vd = &out
		dp.accept(fmt.Sprintf("VirtualDestination %s/%s", out.Namespace, out.Name), func(p *parser, d docRef) {
			vd := out
			vd.Age.Seq = d.index
			p.world.VirtualDestinations = append(p.world.VirtualDestinations, vd)
		})
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
func parseNamespacedCR[T any, PT namespacedCR[T]](dp *docParser, data []byte, kind string, validate func(PT) []apiconv.FieldError, add func(*model.World, PT)) {
	obj := PT(new(T))
	if !dp.decodeStrict(data, obj) {
		return
	}
	ok := dp.checkName(obj.GetName())
	obj.SetNamespace(dp.ref.namespace)
	ok = dp.fieldErrors(validate(obj)) && ok
	if ok {
		dp.accept(fmt.Sprintf("%s %s/%s", kind, obj.GetNamespace(), obj.GetName()), func(p *parser, _ docRef) {
			add(&p.world, obj)
		})
	}
}

func (dp *docParser) parseExternalService(data []byte) {
	parseNamespacedCR(dp, data, "ExternalService", apiconv.ExternalService, func(w *model.World, es *v1alpha1.ExternalService) {
		w.ExternalServices = append(w.ExternalServices, es)
	})
}

func (dp *docParser) parseFailoverPolicy(data []byte) {
	parseNamespacedCR(dp, data, "FailoverPolicy", apiconv.FailoverPolicy, func(w *model.World, fp *v1alpha1.FailoverPolicy) {
		w.FailoverPolicies = append(w.FailoverPolicies, fp)
	})
}

func (dp *docParser) parseOutlierDetectionPolicy(data []byte) {
	parseNamespacedCR(dp, data, "OutlierDetectionPolicy", apiconv.OutlierDetectionPolicy, func(w *model.World, odp *v1alpha1.OutlierDetectionPolicy) {
		w.OutlierDetectionPolicies = append(w.OutlierDetectionPolicies, odp)
	})
}

// parseWorkspace reads a Workspace, cluster-scoped like its CRD: a
// namespace would suggest it is confined to one, so it is an error.
func (dp *docParser) parseWorkspace(data []byte) {
	var ws v1alpha1.Workspace
	if !dp.decodeStrict(data, &ws) {
		return
	}
	ok := dp.checkName(ws.Name)
	if ws.Namespace != "" {
		dp.errorf("metadata.namespace", "Workspace is cluster-scoped; remove the namespace")
		ok = false
	}
	out, errs := apiconv.Workspace(&ws)
	ok = dp.fieldErrors(errs) && ok
	if ok {
		dp.accept("Workspace "+ws.Name, func(p *parser, _ docRef) {
			p.world.Workspaces = append(p.world.Workspaces, out)
		})
	}
}
