#!/usr/bin/env bash
# Fails when any committed generated code differs from what proto/ generates today: each
# language is generated into a temporary directory and compared with the committed copy.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
check() {  # language, generator, committed directory, directory inside the generator's output
  local lang=$1 generator=$2 committed=$3 inside=$4
  mkdir -p "$tmp/$lang"
  "$generator" "$tmp/$lang" >/dev/null
  if ! diff -r "$tmp/$lang/$inside" "$committed" >/dev/null; then
    echo "generated $lang code drifted from proto/ (in $committed): run 'make generate' and commit" >&2
    diff -r "$tmp/$lang/$inside" "$committed" | head -20 >&2
    status=1
  fi
}
check python scripts/generate-python.sh clients/python/src/polysync polysync
check go scripts/generate-go.sh clients/go/polysync polysync
check typescript scripts/generate-typescript.sh clients/typescript/src/gen .
check java scripts/generate-java.sh clients/java/src/generated/java/io io
# The reason constants of every client and the README's error table, from domain/reasons.py.
python=.venv/bin/python
[[ -x "$python" ]] || python=python3
"$python" scripts/generate-reasons.py "$tmp/reasons" >/dev/null
for file in $(cd "$tmp/reasons" && find . -type f | sort); do
  if ! diff "$tmp/reasons/$file" "$file" >/dev/null 2>&1; then
    echo "${file#./} drifted from server/polysync_batch/domain/reasons.py: run 'make generate' and commit" >&2
    diff "$tmp/reasons/$file" "$file" | head -20 >&2 || true
    status=1
  fi
done
[ "$status" = 0 ] && echo "generated code matches proto/ (python, go, typescript, java) and domain/reasons.py (every client's reasons, README)"
exit "$status"
