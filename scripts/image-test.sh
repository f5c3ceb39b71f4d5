#!/usr/bin/env bash
# Builds the Dockerfile with a daemonless podman and smoke-tests the image: it runs as uid
# 10001, the demo platform answers gRPC health for "" and "platform:demo", and SIGTERM ends it
# with exit code 0.
#
# There is no Docker engine and no reachable container registry here, so:
#   - podman runs with a private containers.conf, storage.conf and registries.conf under
#     build/podman/ (runc as the runtime: crun fails on this host's hybrid cgroups;
#     cgroupfs; default ulimits no higher than the host's hard limits), so it touches no
#     other image store on the machine and asks no registry for anything;
#   - the Dockerfile's FROM image is a stand-in made here: a debootstrapped minimal bookworm
#     with python3 and pip, carrying the host's CA trust store (package-registry traffic is
#     re-signed by a local CA; without it uv fails with UnknownIssuer; SSL_CERT_FILE points uv
#     at it, as on the host), imported under the FROM tag. The Dockerfile keeps the official base for real builds.
# Installs podman, runc and debootstrap with apt-get when they are missing (CI runs as root).
# The debootstrap tarball is cached outside the checkout ($XDG_CACHE_HOME/polysync-batch, so a
# fresh clone on the same machine, as in CI, reuses it); the imported base and podman's layers
# are cached in build/podman/. A fresh machine makes them all (about a minute more).
set -euo pipefail
cd "$(dirname "$0")/.."
PATH=$PATH:/usr/sbin:/sbin  # runc and debootstrap live there
ROOT=$PWD
BUILD=$ROOT/build/podman
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/polysync-batch/debootstrap
IMAGE=localhost/polysync-batch:test
PROBE=$ROOT/.tools/go-bin/grpc-health-probe
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
BASE_PACKAGES=python3,python3-pip,ca-certificates
# Bump when the stand-in recipe below changes: BASE_RECIPE re-runs debootstrap, IMPORT_RECIPE
# only the import.
BASE_RECIPE=1
IMPORT_RECIPE=1

log() { printf '== image-test: %s\n' "$*" >&2; }
fail() { printf '== image-test: FAIL: %s\n' "$*" >&2; exit 1; }

missing=()
for tool in podman runc debootstrap; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    log "installing ${missing[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        podman runc debootstrap >/dev/null
fi
[[ -x $PROBE ]] || fail "$PROBE missing: run make tools"

FROM_TAG=$(awk 'toupper($1) == "FROM" { print $2; exit }' Dockerfile)
[[ -n $FROM_TAG ]] || fail "no FROM line in Dockerfile"
case $FROM_TAG in */*) QUALIFIED=$FROM_TAG ;; *) QUALIFIED=docker.io/library/$FROM_TAG ;; esac

# A container may not be given more than the host's hard limits (20000 open files here).
limit() { local hard=$1 want=$2; [[ $hard == unlimited || $hard -ge $want ]] && echo "$want" || echo "$hard"; }
nofile=$(limit "$(ulimit -Hn)" 20000)
nproc=$(limit "$(ulimit -Hu)" 4096)

mkdir -p "$BUILD"/{storage,run,tmp} "$CACHE"
cat >"$BUILD/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
netns = "none"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$BUILD/events.log"
tmp_dir = "$BUILD/tmp"
EOF
cat >"$BUILD/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$BUILD/storage"
runroot = "$BUILD/run"
EOF
cat >"$BUILD/registries.conf" <<EOF
unqualified-search-registries = []
short-name-mode = "disabled"
EOF
export CONTAINERS_CONF=$BUILD/containers.conf
export CONTAINERS_STORAGE_CONF=$BUILD/storage.conf
export CONTAINERS_REGISTRIES_CONF=$BUILD/registries.conf
podman() { command podman --root "$BUILD/storage" --runroot "$BUILD/run" "$@"; }

# --- the stand-in base image -------------------------------------------------------------
ca_sum=$(sha256sum /etc/ssl/certs/ca-certificates.crt | cut -c1-12)
base_key="$SUITE-$(echo "$BASE_PACKAGES $BASE_RECIPE" | sha256sum | cut -c1-12)-ca$ca_sum"
tarball=$CACHE/$base_key.tar
import_key=$base_key-$IMPORT_RECIPE
if [[ $(podman image inspect --format '{{index .Labels "polysync.base-key"}}' "$QUALIFIED" 2>/dev/null) != "$import_key" ]]; then
    if [[ ! -s $tarball ]]; then
        started=$SECONDS
        log "debootstrap $SUITE with $BASE_PACKAGES (cached as $tarball)"
        rootfs=$CACHE/rootfs
        rm -rf "$rootfs" && mkdir -p "$rootfs"
        debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$rootfs" "$MIRROR" \
            >"$CACHE/debootstrap.log" 2>&1 || { tail -20 "$CACHE/debootstrap.log" >&2; fail "debootstrap"; }
        # What the official python image also has: the system pip may install (no PEP 668
        # marker), a `python` command; plus this host's trust store.
        rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
        ln -sf python3 "$rootfs/usr/bin/python"
        cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        rm -f "$CACHE"/*.tar
        tar -C "$rootfs" --numeric-owner -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
        rm -rf "$rootfs"
        log "base rootfs made in $((SECONDS - started)) s"
    fi
    started=$SECONDS
    podman import --quiet \
        --change 'ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV=LANG=C.UTF-8' \
        --change 'ENV=SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        --change "LABEL=polysync.base-key=$import_key" \
        --change 'CMD=["python3"]' \
        "$tarball" "$QUALIFIED" >/dev/null
    log "imported the stand-in base as $QUALIFIED in $((SECONDS - started)) s"
fi

# --- build -----------------------------------------------------------------------------
started=$SECONDS
previous=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
log "podman build -t $IMAGE ."
# The build stage downloads from PyPI (uv sync from the lock file): host network for builds.
podman build --pull=never --network=host -t "$IMAGE" -f Dockerfile . >"$BUILD/build.log" 2>&1 \
    || { tail -30 "$BUILD/build.log" >&2; fail "podman build (log: build/podman/build.log)"; }
log "built in $((SECONDS - started)) s"
# The image this build replaced would fill build/ over time. (Not `podman image prune`: that
# also drops the build stage's cached layers.)
if [[ -n $previous && $previous != $(podman image inspect --format '{{.Id}}' "$IMAGE") ]]; then
    podman rmi "$previous" >/dev/null 2>&1 || true
fi

# --- smoke test ------------------------------------------------------------------------
started=$SECONDS
name=polysync-batch-smoke-$$
cleanup() { podman rm --force --time 0 "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT

[[ $(podman image inspect --format '{{.Config.User}}' "$IMAGE") == 10001 ]] \
    || fail "the image's USER is not 10001"

# No network but the container's own loopback: the server listens on 127.0.0.1 inside it and
# the probe (the host's grpc-health-probe, mounted read-only) runs beside it via exec.
# An empty POLYSYNC_BATCH_CONFIG means no file: the embedded demo platform.
podman run --detach --name "$name" --network none \
    -e POLYSYNC_BATCH_CONFIG= -e POLYSYNC_BATCH_SERVER__ADDRESS=127.0.0.1:50051 \
    -v "$PROBE:/probe/grpc-health-probe:ro" "$IMAGE" >/dev/null

uid=$(podman exec "$name" id -u)
[[ $uid == 10001 ]] || fail "the server runs as uid $uid, not 10001"
# pid 1, the entrypoint's process, also runs as 10001.
pid1_uid=$(podman exec "$name" awk '/^Uid:/ { print $2 }' /proc/1/status)
[[ $pid1_uid == 10001 ]] || fail "pid 1 runs as uid $pid1_uid, not 10001"

for service in "" "platform:demo"; do
    for _ in $(seq 100); do
        if podman exec "$name" /probe/grpc-health-probe -addr 127.0.0.1:50051 \
            -service "$service" -connect-timeout 1s -rpc-timeout 1s >/dev/null 2>&1; then
            log "health \"$service\": SERVING"
            continue 2
        fi
        [[ $(podman inspect --format '{{.State.Running}}' "$name") == true ]] || break
        sleep 0.2
    done
    podman logs "$name" | tail -20 >&2
    fail "health \"$service\" is not SERVING"
done

podman kill --signal TERM "$name" >/dev/null
# server.shutdown_grace_seconds is 10; a process that ignores SIGTERM would never exit.
if ! code=$(timeout 30 podman wait "$name"); then
    podman logs "$name" | tail -20 >&2
    fail "still running 30 s after SIGTERM"
fi
[[ $code == 0 ]] || { podman logs "$name" | tail -20 >&2; fail "SIGTERM: exit code $code, not 0"; }
log "SIGTERM: exit code 0; smoke test in $((SECONDS - started)) s"
