#!/usr/bin/env bash
# The Python client as a service team installs it: `uv build` (the pinned uv) makes the wheel,
# a clean venv outside the repository installs it — once with the newest dependencies, once
# with the lowest the package declares (--resolution lowest: grpcio 1.62.3, protobuf
# 7.35.1, googleapis-common-protos 1.76.0) — and python_app.py runs against a live server
# (tests/live_stack.py: the emulator plus the server). Prints install times and ends with
# "python-consumer: N passed, N failed".
set -euo pipefail
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
uv="$repo/.tools/bin/uv"
tmp="$(mktemp -d)"
stack_pid=""
cleanup() {
  [[ -n "$stack_pid" ]] && { exec 3>&-; wait "$stack_pid" 2>/dev/null || true; }
  rm -rf "$tmp"
}
trap cleanup EXIT
export UV_NO_CONFIG=1 VIRTUAL_ENV= PYTHONPATH=

seconds() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(seconds)"; }

start=$(seconds)
"$uv" build --quiet --wheel "$repo/clients/python" --out-dir "$tmp/dist"
wheel="$(ls "$tmp"/dist/*.whl)"
echo "built $(basename "$wheel") in $(elapsed "$start") s"

# The live stack: emulator + server, on a free 127.0.0.1 port; its stdin stays open on fd 3.
mkfifo "$tmp/stdin"
(cd "$repo" && exec .venv/bin/python -m tests.live_stack <"$tmp/stdin" >"$tmp/stack.out" 2>"$tmp/stack.err") &
stack_pid=$!
exec 3>"$tmp/stdin"

passed=0
failed=0
for resolution in highest lowest; do
  venv="$tmp/venv-$resolution"
  start=$(seconds)
  "$uv" venv --quiet --python python3 "$venv"
  "$uv" pip install --quiet --python "$venv/bin/python" --resolution "$resolution" "$wheel"
  echo "installed into a clean venv ($resolution) in $(elapsed "$start") s:" \
    "$("$uv" pip freeze --python "$venv/bin/python" | grep -E '^(grpcio|protobuf|googleapis-common-protos)==' | tr '\n' ' ')"
  if [[ -z "${port:-}" ]]; then
    for _ in $(seq 600); do grep -q '^ready ' "$tmp/stack.out" 2>/dev/null && break; sleep 0.1; done
    port="$(sed -n 's/^ready //p' "$tmp/stack.out" | head -1)"
    [[ -n "$port" ]] || { echo "live stack did not start:"; cat "$tmp/stack.err"; exit 1; }
  fi
  mkdir -p "$tmp/consumer" && cp "$repo/tests/clients/consumer/python_app.py" "$tmp/consumer/app.py"
  # Run from the consumer's own directory, so nothing of the repository can be imported.
  if (cd "$tmp/consumer" && "$venv/bin/python" -I app.py "127.0.0.1:$port"); then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
done
echo "python-consumer: $passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
