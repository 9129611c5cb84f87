package status

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/translator"
)

func TestDescribes(t *testing.T) {
	live := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{UID: "b", Generation: 1}}
	for _, tc := range []struct {
		name string
		v    translator.ObjectVersion
		want bool
	}{
		{"same object and generation", translator.ObjectVersion{UID: "b", Generation: 1}, true},
		{"model behind a spec change", translator.ObjectVersion{UID: "b", Generation: 2}, false},
		{"model has the deleted object of the same name", translator.ObjectVersion{UID: types.UID("a"), Generation: 1}, false},
		{"version unknown", translator.ObjectVersion{}, true},
		{"generation only", translator.ObjectVersion{Generation: 1}, true},
	} {
		if got := describes(tc.v, live); got != tc.want {
			t.Errorf("%s: describes(%+v) = %v, want %v", tc.name, tc.v, got, tc.want)
		}
	}
}
