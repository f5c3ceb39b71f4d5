#!/usr/bin/env bash
# Puts Debian's promtool (package `prometheus`) at .tools/bin/promtool without installing the
# package: `apt-get install prometheus` would also set up a Prometheus server to start.
set -euo pipefail
cd "$(dirname "$0")/.."
target=.tools/bin/promtool
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
download() { (cd "$work" && apt-get -o APT::Sandbox::User=root download -qq prometheus); }
# A machine whose package lists are missing or stale needs `apt-get update` first.
download 2>/dev/null || { apt-get update -qq && download; }
dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
mkdir -p "$(dirname "$target")"
install -m 0755 "$work/root/usr/bin/promtool" "$target"
"$target" --version | head -1
