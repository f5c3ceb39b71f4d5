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
ARGS ?=

.PHONY: run test test-python test-clients test-consumers bench setup tools lint breaking generate check-generated clean

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
	$(PY) -m bench.watch_fanout
	$(PY) -m bench.unary

$(GO_BIN)/grpc-health-probe:
	GOBIN=$(CURDIR)/$(GO_BIN) go install github.com/grpc-ecosystem/grpc-health-probe@$(GRPC_HEALTH_PROBE_VERSION)

# Serves the embedded emulator's `demo` platform on 127.0.0.1:50051 unless a config is given.
run: $(VENV)/.synced
	$(VENV)/bin/polysync-batch serve $(ARGS)

test: setup tools lint breaking check-generated test-python test-clients test-consumers

# The server, the emulator and the Python client (unit, adapter, service and tool tests).
test-python: setup tools
	PATH="$(CURDIR)/$(GO_BIN):$$PATH" $(PY) -m pytest $(ARGS)

# Each generated client against a live server on the emulator.
test-clients: setup
	bash clients/go/test.sh
	bash clients/typescript/test.sh
	bash clients/java/test.sh
	bash clients/csharp/test.sh

# Each client installed from outside the repository the way its README says (a fresh clone:
# the npm pack tarball into ESM and CommonJS projects, a Go consumer module), run live.
test-consumers: setup
	scripts/test-consumers.sh

lint: $(BUF)
	$(BUF) lint
	$(BUF) format --diff --exit-code

# The contract may grow but never break what main already has.
breaking: $(BUF)
	$(BUF) breaking --against '.git#branch=main'

generate: setup
	scripts/generate-python.sh
	scripts/generate-go.sh
	scripts/generate-typescript.sh
	scripts/generate-java.sh
	$(PY) scripts/generate-reasons.py

# Fails when any committed generated code differs from what proto/ generates.
check-generated: setup
	scripts/check-generated.sh

clean:
	rm -rf $(VENV) $(TOOLS) node_modules
