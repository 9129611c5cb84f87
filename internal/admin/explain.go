// Package admin serves Causeway's debug endpoints on the admin listener
// (serve --admin-address): never on the xDS port.
package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// ExplainPath is where ExplainHandler is served.
const ExplainPath = "/debug/explain"

// Query parameters of ExplainPath: the proxy identity (as bootstrap's
// flags name it) and what to explain.
const (
	ParamRole        = "role"
	ParamCluster     = "cluster"
	ParamGateway     = "gateway" // "<namespace>/<name>" or "*"
	ParamRegion      = "region"
	ParamZone        = "zone"
	ParamSubzone     = "subzone"
	ParamBindAddress = "bindAddress"
	ParamNamespace   = "namespace" // a client proxy's
	ParamHost        = "host"
	ParamPort        = "port"
	ParamPath        = "path"
)

// ExplainError is the JSON body of a failed explain request. Param names
// the query parameter at fault; Closest lists the known hosts nearest to
// an unknown one.
type ExplainError struct {
	Error   string   `json:"error"`
	Param   string   `json:"param,omitempty"`
	Closest []string `json:"closest,omitempty"`
}

// ExplainValues encodes a proxy and a query as ExplainPath's parameters.
func ExplainValues(p model.Proxy, q translator.ExplainQuery) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set(ParamRole, string(p.Role))
	set(ParamCluster, p.Cluster)
	set(ParamGateway, p.Gateway)
	set(ParamRegion, p.Locality.Region)
	set(ParamZone, p.Locality.Zone)
	set(ParamSubzone, p.Locality.Subzone)
	set(ParamBindAddress, p.BindAddress)
	set(ParamNamespace, p.Namespace)
	set(ParamHost, q.Host)
	if q.Port != 0 {
		v.Set(ParamPort, strconv.FormatUint(uint64(q.Port), 10))
	}
	set(ParamPath, q.Path)
	return v
}

// ExplainHandler answers GET ExplainPath with translator.Explain's
// explanation, as JSON, for the snapshot current returns when the request
// arrives (the world serve translates from). A proxy without a locality
// takes its cluster's, as a connecting Envoy does.
func ExplainHandler(current func() *model.Snapshot) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			writeExplainJSON(w, http.StatusMethodNotAllowed, ExplainError{Error: "use GET"})
			return
		}
		world := current()
		if world == nil {
			writeExplainJSON(w, http.StatusServiceUnavailable, ExplainError{Error: "no world loaded yet"})
			return
		}
		p, q, perr := parseExplain(r.URL.Query())
		if perr != nil {
			writeExplainJSON(w, http.StatusBadRequest, *perr)
			return
		}
		if c := world.Cluster(p.Cluster); c != nil && p.Locality == (model.Locality{}) {
			p.Locality = c.Locality
		}
		ex, err := translator.Explain(world, p, q)
		var (
			uh *translator.UnknownHostError
			uc *translator.UnknownClusterError
			nr *translator.NoRouteError
		)
		switch {
		case errors.As(err, &uc):
			writeExplainJSON(w, http.StatusNotFound, ExplainError{Error: err.Error(), Param: ParamCluster})
		case errors.As(err, &uh):
			writeExplainJSON(w, http.StatusNotFound, ExplainError{Error: err.Error(), Param: ParamHost, Closest: uh.Closest})
		case errors.As(err, &nr):
			writeExplainJSON(w, http.StatusNotFound, ExplainError{Error: err.Error(), Param: ParamPath})
		case err != nil:
			writeExplainJSON(w, http.StatusBadRequest, ExplainError{Error: err.Error()})
		default:
			writeExplainJSON(w, http.StatusOK, ex)
		}
	})
}

// parseExplain reads the proxy and query from ExplainPath's parameters.
func parseExplain(v url.Values) (model.Proxy, translator.ExplainQuery, *ExplainError) {
	p := model.Proxy{
		Role:        model.Role(v.Get(ParamRole)),
		Cluster:     v.Get(ParamCluster),
		Gateway:     v.Get(ParamGateway),
		BindAddress: v.Get(ParamBindAddress),
		Namespace:   v.Get(ParamNamespace),
		Locality:    model.Locality{Region: v.Get(ParamRegion), Zone: v.Get(ParamZone), Subzone: v.Get(ParamSubzone)},
	}
	if p.Role == "" {
		p.Role = model.RoleGateway
	}
	if p.Role == model.RoleGateway && p.Gateway == "" {
		p.Gateway = model.AllGateways
	}
	q := translator.ExplainQuery{Host: v.Get(ParamHost), Path: v.Get(ParamPath)}
	if s := v.Get(ParamPort); s != "" {
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil || n == 0 {
			return p, q, &ExplainError{Error: fmt.Sprintf("port %q: want 1..65535", s), Param: ParamPort}
		}
		q.Port = uint32(n)
	}
	switch {
	case p.Cluster == "":
		return p, q, &ExplainError{Error: "cluster is required: the cluster of the proxy to explain for", Param: ParamCluster}
	case q.Host == "":
		return p, q, &ExplainError{Error: "host is required: the host to explain", Param: ParamHost}
	}
	if err := p.Validate(); err != nil {
		return p, q, &ExplainError{Error: err.Error(), Param: ParamRole}
	}
	return p, q, nil
}

func writeExplainJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
