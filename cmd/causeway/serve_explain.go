package main

import (
	"net/http"

	"github.com/causeway-dev/causeway/internal/admin"
	"github.com/causeway-dev/causeway/model"
)

// registerExplain serves GET /debug/explain on the admin listener's mux
// (serve --admin-address), explaining against the world serve currently
// translates from (store). serve calls it where it builds that mux.
func registerExplain(mux *http.ServeMux, store *model.Store) {
	mux.Handle(admin.ExplainPath, admin.ExplainHandler(store.Load))
}
