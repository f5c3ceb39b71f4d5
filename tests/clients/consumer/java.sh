#!/usr/bin/env bash
# The Java client as a service team installs it: a copy of clients/java (as in a fresh clone)
# is built with `mvn install -DskipTests` with no Python on PATH, then a consumer pom.xml in a
# temp dir depends on io.polysync:polysync-platform-client (plus its own transport) and runs
# App.java against a live server (tests/live_stack.py). Then plain `mvn install` of the copy
# shows the unit tests need no Python either (the copy has no ../../.venv). Prints the times and
# ends with "java-consumer: N passed, N failed".
set -euo pipefail
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
tmp="$(mktemp -d)"
stack_pid=""
cleanup() {
  [[ -n "$stack_pid" ]] && { exec 3>&-; wait "$stack_pid" 2>/dev/null || true; }
  rm -rf "$tmp"
}
trap cleanup EXIT
seconds() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(seconds)" 'BEGIN { printf "%.1f", b - a }'; }
# A PATH with no Python at all: the system's bin directories mirrored without python*, and
# nothing of the repository (its .venv, .tools) or of any virtualenv.
mkdir -p "$tmp/bin"
for dir in /usr/local/bin /usr/bin /bin; do
  for tool in "$dir"/*; do
    name="${tool##*/}"
    case "$name" in python* | pip* | uv | uvx) continue ;; esac
    [[ -e "$tmp/bin/$name" ]] || ln -s "$tool" "$tmp/bin/$name"
  done
done
clean_path="$(tr ':' '\n' <<<"$PATH" | grep -v -e "^$repo" -e '/\.venv/' -e '/venv/' -e '^/usr/local/bin$' \
  -e '^/usr/bin$' -e '^/bin$' -e '^/usr/local/sbin$' -e '^/usr/sbin$' -e '^/sbin$' -e 'pyenv' | paste -sd: -)"
clean_path="$tmp/bin${clean_path:+:$clean_path}"
if env PATH="$clean_path" bash -c 'command -v python3 || command -v python' >/dev/null; then
  echo "java-consumer: could not take Python off PATH ($clean_path)"; exit 1
fi
mvn_quiet=(mvn -B -q -Dstyle.color=never)

passed=0
failed=0
step() { # NAME COMMAND...
  local name=$1 start
  shift
  start=$(seconds)
  if "$@"; then
    echo "ok   $name ($(elapsed "$start") s)"
    passed=$((passed + 1))
  else
    echo "FAIL $name"
    failed=$((failed + 1))
  fi
}

mkdir -p "$tmp/src"
(cd "$repo/clients/java" && tar --exclude=./target --exclude=./.tools -cf - .) | (cd "$tmp/src" && tar -xf -)
step "mvn install -DskipTests (no Python on PATH)" \
  env PATH="$clean_path" "${mvn_quiet[@]}" -f "$tmp/src/pom.xml" install -DskipTests
jar="$(ls "$tmp/src/target/"polysync-platform-client-"$(cat "$repo/VERSION")".jar)"
step "the jar ships no examples.Quickstart, sources and javadoc jars exist" bash -c \
  "! unzip -l '$jar' | grep -q examples/ && ls '$tmp'/src/target/*-sources.jar '$tmp'/src/target/*-javadoc.jar >/dev/null"

# The live stack: emulator + server, on a free 127.0.0.1 port; its stdin stays open on fd 3.
mkfifo "$tmp/stdin"
(cd "$repo" && exec .venv/bin/python -m tests.live_stack <"$tmp/stdin" >"$tmp/stack.out" 2>"$tmp/stack.err") &
stack_pid=$!
exec 3>"$tmp/stdin"

cp -r "$repo/tests/clients/consumer/java" "$tmp/consumer"
step "consumer project builds against the installed artifact" env PATH="$clean_path" bash -c \
  "cd '$tmp/consumer' && ${mvn_quiet[*]} package dependency:build-classpath -Dmdep.outputFile=cp.txt >/dev/null"
for _ in $(seq 600); do grep -q '^ready ' "$tmp/stack.out" 2>/dev/null && break; sleep 0.1; done
port="$(sed -n 's/^ready //p' "$tmp/stack.out" | head -1)"
[[ -n "$port" ]] || { echo "live stack did not start:"; cat "$tmp/stack.err"; exit 1; }
step "consumer runs against the live server" env PATH="$clean_path" \
  java -cp "$tmp/consumer/target/classes:$(cat "$tmp/consumer/cp.txt" 2>/dev/null)" com.example.App "127.0.0.1:$port"
unit_tests_ran_without_live_ones() {
  env PATH="$clean_path" "${mvn_quiet[@]}" -f "$tmp/src/pom.xml" install \
    && ls "$tmp"/src/target/surefire-reports/TEST-*HelpersTest.xml >/dev/null \
    && ! ls "$tmp"/src/target/surefire-reports/ | grep -q LiveTest
}
step "plain mvn install runs the unit tests (not the live ones) with no Python on PATH" unit_tests_ran_without_live_ones
echo "java-consumer: $passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
