#!/usr/bin/env bash
# Builds the Java client and runs all its tests: the unit tests (scripted in-process server, TLS)
# and, with -Plive, the live ones against the real server (tests/live_stack.py, which needs the
# repository's .venv). Plain `mvn install` runs only the unit tests. Works from any directory;
# the Makefile calls it.
set -euo pipefail
cd "$(dirname "$0")"
# -q keeps Maven quiet; the one logger re-enabled prints Surefire's per-class lines and summary
# ("Tests run: N, Failures: 0, ...").
exec mvn -B -q -Dstyle.color=never -Plive \
  -Dorg.slf4j.simpleLogger.log.org.apache.maven.plugin.surefire.SurefireMojo=info \
  test "$@"
