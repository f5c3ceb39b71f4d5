#!/usr/bin/env bash
# Puts Debian's promtool (package `prometheus`) at .tools/bin/promtool without installing the
# package: `apt-get install prometheus` would also set up a Prometheus server to start.
set -euo pipefail
cd "$(dirname "$0")/.."
target=.tools/bin/promtool
work=$(mktemp -d)
chmod 755 "$work"  # apt-get download writes as _apt
trap 'rm -rf "$work"' EXIT
if ! apt-cache policy prometheus 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt-get update -qq
fi
(cd "$work" && apt-get download -qq prometheus)
dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
mkdir -p "$(dirname "$target")"
install -m 0755 "$work/root/usr/bin/promtool" "$target"
"$target" --version | head -1
