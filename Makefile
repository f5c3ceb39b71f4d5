# The two commands a newcomer needs are `make run` and `make test`; both set up everything first.
SHELL := /bin/bash
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
BUF := node_modules/.bin/buf
ARGS ?=

.PHONY: run test setup lint generate check-generated clean

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

# Serves the embedded emulator's `demo` platform on 127.0.0.1:50051 unless a config is given.
run: $(VENV)/.synced
	$(VENV)/bin/polysync-batch serve $(ARGS)

test: setup lint check-generated
	$(PY) -m pytest $(ARGS)

lint: $(BUF)
	$(BUF) lint
	$(BUF) format --diff --exit-code

generate: $(VENV)/.synced
	scripts/generate-python.sh

# Fails when the committed stubs differ from what proto/ generates.
check-generated: $(VENV)/.synced
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && scripts/generate-python.sh "$$tmp" && \
	  diff -r "$$tmp/polysync" clients/python/src/polysync \
	  || { echo "Generated stubs drifted from proto/: run 'make generate' and commit." >&2; exit 1; }

clean:
	rm -rf $(VENV) $(TOOLS) node_modules
