#!/usr/bin/env bash
# Installs the Go and TypeScript clients the way a service outside this repository does, and
# runs a consumer program of each against a live server (tests/live_stack.py):
#
#   TypeScript  `npm pack` tarball of clients/typescript (dist/ built by its prepack script) installed
#               into an ESM project (type-checked by tsc, strict, then run: examples/consumer.ts)
#               and into a CommonJS project (require(): examples/consumer.cjs). No build step in
#               either consumer.
#   Go          a module of its own (example/consumer/main.go) that requires
#               github.com/polysync/polysync-batch/clients/go, pointed at the checkout by a
#               `replace` directive (no tag can be pushed from here; see clients/go/README.md).
#
#   scripts/test-consumers.sh [typescript|go]...   (default: both)
#
# The clients come from a fresh clone of the committed HEAD (CONSUMER_SOURCE=worktree uses the
# working tree instead, uncommitted changes included). Needs `make setup` (the .venv serves the
# live server), node/npm and go; packages come from the npm registry and the Go module proxy.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
langs=("$@")
[[ ${#langs[@]} -gt 0 ]] || langs=(typescript go)
python="$repo/.venv/bin/python"
[[ -x "$python" ]] || { echo "test-consumers: $python missing: run 'make setup' first" >&2; exit 1; }

work="$(mktemp -d)"
server_pid=""
cleanup() {
  exec 3>&- 2>/dev/null || true
  if [[ -n "$server_pid" ]]; then
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

seconds() { python3 -c 'import time; print(f"{time.monotonic():.1f}")'; }
elapsed() { python3 -c "print(f'{$(seconds) - $1:.1f}')"; }
say() { echo "test-consumers: $*"; }

# The source of the clients: a fresh clone (the committed HEAD) or the working tree.
if [[ "${CONSUMER_SOURCE:-clone}" == worktree ]]; then
  src="$repo"
  say "clients from the working tree $src"
else
  src="$work/clone"
  git clone --quiet --no-local "$repo" "$src"
  git -C "$src" checkout --quiet "$(git -C "$repo" rev-parse HEAD)"
  say "clients from a fresh clone of $(git -C "$repo" rev-parse --short HEAD)"
fi

# The live server: started once, stopped by closing its stdin.
mkfifo "$work/ctl"
(cd "$repo" && exec "$python" -m tests.live_stack <"$work/ctl" >"$work/server.out" 2>"$work/server.err") &
server_pid=$!
exec 3>"$work/ctl"
for _ in $(seq 300); do
  grep -q '^ready ' "$work/server.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; exit 1; }
  sleep 0.2
done
port="$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$work/server.out" | head -1)"
[[ -n "$port" ]] || { echo "test-consumers: the live server did not start" >&2; cat "$work/server.err" >&2; exit 1; }
address="127.0.0.1:$port"
say "live server on $address"

# expect FILE PATTERN...: each extended regexp must match a line of FILE.
expect() {
  local file=$1
  shift
  local pattern
  for pattern in "$@"; do
    grep -Eq "$pattern" "$file" || { echo "test-consumers: no line matches /$pattern/ in the output:" >&2; cat "$file" >&2; exit 1; }
  done
}

# A README must quote each tested example verbatim.
quoted() {
  python3 - "$1" "$2" <<'EOF'
import sys
readme, example = (open(p).read() for p in sys.argv[1:])
sys.exit(0 if example.strip() in readme else f"{sys.argv[1]} does not quote {sys.argv[2]} verbatim")
EOF
}

test_typescript() {
  local pkg="$src/clients/typescript" t0 tarball
  quoted "$repo/clients/typescript/README.md" "$repo/clients/typescript/examples/consumer.ts"
  quoted "$repo/clients/typescript/README.md" "$repo/clients/typescript/examples/consumer.cjs"
  t0=$(seconds)
  (cd "$pkg" && npm ci --ignore-scripts --no-audit --no-fund 2>&1 | tee "$work/package-ci.log")
  tarball="$(cd "$pkg" && npm pack --silent --pack-destination "$work" 2>"$work/pack.log" | tail -1)"
  if grep -q EBADENGINE "$work/package-ci.log" "$work/pack.log"; then
    echo "test-consumers: EBADENGINE building the package on node $(node --version):" >&2
    cat "$work/package-ci.log" "$work/pack.log" >&2
    exit 1
  fi
  say "npm ci + npm pack (prepack builds dist/): $(elapsed "$t0") s -> $tarball"
  tar -tzf "$work/$tarball" >"$work/tarball.txt"
  # The tarball carries dist/ and no install script (npm 11 warns "install-scripts not yet
  # covered by allowScripts" for one, e.g. prepare).
  tar -xzOf "$work/$tarball" package/package.json | node -e '
    const scripts = JSON.parse(require("fs").readFileSync(0, "utf8")).scripts ?? {};
    const found = ["preinstall", "install", "postinstall", "prepare"].filter((k) => k in scripts);
    if (found.length) { console.error(`test-consumers: the package has install scripts: ${found}`); process.exit(1); }'
  say "the tarball carries dist/ and no install script"
  grep -q '^package/dist/cjs/index.js$' "$work/tarball.txt"
  grep -q '^package/dist/cjs/package.json$' "$work/tarball.txt"
  grep -q '^package/dist/esm/index.d.ts$' "$work/tarball.txt"
  if grep -Eq '^package/(test|build|examples|node_modules)/' "$work/tarball.txt"; then
    echo "test-consumers: the tarball ships tests, build output or examples" >&2
    exit 1
  fi
  local ts_version types_version
  ts_version="$(node -p "require('$pkg/package.json').devDependencies.typescript")"
  types_version="$(node -p "require('$pkg/package.json').devDependencies['@types/node']")"

  # ESM consumer, type-checked.
  mkdir -p "$work/ts-esm"
  cat >"$work/ts-esm/package.json" <<EOF
{ "name": "esm-consumer", "private": true, "type": "module",
  "dependencies": { "@polysync/platform-client": "file:../$tarball" },
  "devDependencies": { "typescript": "$ts_version", "@types/node": "$types_version" } }
EOF
  cat >"$work/ts-esm/tsconfig.json" <<'EOF'
{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext",
    "strict": true, "noUncheckedIndexedAccess": true, "types": ["node"], "outDir": "out" },
  "files": ["consumer.ts"] }
EOF
  cp "$src/clients/typescript/examples/consumer.ts" "$work/ts-esm/consumer.ts"
  t0=$(seconds)
  (cd "$work/ts-esm" && npm install --no-audit --no-fund --loglevel=error 2>&1 | tee "$work/ts-esm/install.log")
  if grep -q EBADENGINE "$work/ts-esm/install.log"; then echo "test-consumers: EBADENGINE on $(node --version)" >&2; exit 1; fi
  if grep -qi -e "install-scripts" -e "allowScripts" "$work/ts-esm/install.log"; then
    echo "test-consumers: npm warned about install scripts of the tarball:" >&2; cat "$work/ts-esm/install.log" >&2; exit 1
  fi
  say "ESM consumer: npm install of the tarball: $(elapsed "$t0") s"
  [[ ! -e "$work/ts-esm/node_modules/@polysync/platform-client/node_modules/.bin/tsc" ]]
  (cd "$work/ts-esm" && node_modules/.bin/tsc -p tsconfig.json)
  say "ESM consumer: tsc (strict) resolved the package's types"
  (cd "$work/ts-esm" && POLYSYNC_BATCH_ADDRESS="$address" node out/consumer.js) | tee "$work/ts-esm.out"
  expect "$work/ts-esm.out" '^ok list: [3-9][0-9]* pipelines$' '^ok refused: missing name$' '^ok deduplicated: ' \
    'stale_since=none$' '^ok watched: SUCCEEDED$' '^ok cancelled: CANCELLED Cancelled by Polysync' \
    '^ok executed: SUCCEEDED exit code 0$' '^log: .*Bo' '^ok paged: [0-9]+ runs$' \
    '^ok failed: OUT_OF_MEMORY after 1 attempt' '^  attempt 1: OUT_OF_MEMORY, exit code 137: ' '^  advice: ' \
    '^change .* v[0-9]+ SUCCEEDED cursor=.+' '^ok feed: resumed from a cursor'

  # CommonJS consumer: require(), no TypeScript.
  mkdir -p "$work/ts-cjs"
  cat >"$work/ts-cjs/package.json" <<EOF
{ "name": "cjs-consumer", "private": true, "type": "commonjs",
  "dependencies": { "@polysync/platform-client": "file:../$tarball" } }
EOF
  cp "$src/clients/typescript/examples/consumer.cjs" "$work/ts-cjs/consumer.cjs"
  t0=$(seconds)
  (cd "$work/ts-cjs" && npm install --no-audit --no-fund --loglevel=error)
  say "CommonJS consumer: npm install of the tarball: $(elapsed "$t0") s"
  (cd "$work/ts-cjs" && POLYSYNC_BATCH_ADDRESS="$address" node consumer.cjs) | tee "$work/ts-cjs.out"
  expect "$work/ts-cjs.out" '^ok refused: missing name$' 'stale_since=none$' '^ok executed: SUCCEEDED$' '^ok paged: [0-9]+ runs$'
  say "typescript: ok"
}

test_go() {
  local t0
  quoted "$repo/clients/go/README.md" "$repo/clients/go/example/consumer/main.go"
  mkdir -p "$work/go-consumer"
  cp "$src/clients/go/example/consumer/main.go" "$work/go-consumer/main.go"
  cat >"$work/go-consumer/go.mod" <<EOF
module example.com/consumer

go 1.22

require github.com/polysync/polysync-batch/clients/go v0.0.0

// No tag can be pushed from here; a released client is required as
// github.com/polysync/polysync-batch/clients/go vX.Y.Z (tag clients/go/vX.Y.Z) instead.
replace github.com/polysync/polysync-batch/clients/go => $src/clients/go
EOF
  t0=$(seconds)
  (cd "$work/go-consumer" && GOFLAGS=-mod=mod GOTOOLCHAIN=local go mod tidy && GOTOOLCHAIN=local go build -o consumer .)
  say "Go consumer: go mod tidy + go build: $(elapsed "$t0") s"
  grep -q '^go 1.22' "$work/go-consumer/go.mod" || { echo "test-consumers: the client raised the consumer's go directive:" >&2; cat "$work/go-consumer/go.mod" >&2; exit 1; }
  (cd "$work/go-consumer" && ./consumer -addr "$address") | tee "$work/go.out"
  expect "$work/go.out" '^ok list: [3-9][0-9]* pipelines$' '^ok refused: missing \[name\]$' '^ok deduplicated: ' \
    'stale_since=none$' '^ok watched: RUN_STATUS_SUCCEEDED$' '^ok cancelled: RUN_STATUS_CANCELLED Cancelled by Polysync' \
    '^ok executed: RUN_STATUS_SUCCEEDED exit code 0$' '^log: .*Bo' '^ok paged: [0-9]+ runs$'
  say "go: ok"
}

for lang in "${langs[@]}"; do
  case "$lang" in
    typescript) test_typescript ;;
    go) test_go ;;
    *) echo "test-consumers: unknown language $lang (typescript, go)" >&2; exit 2 ;;
  esac
done
