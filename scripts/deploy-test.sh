#!/usr/bin/env bash
# Renders every kustomization under deploy/ (the base, each overlay, monitoring) and validates the
# result offline: kubeconform (strict: unknown fields fail) against the Kubernetes API schemas
# of each version in K8S_VERSIONS, and the Prometheus Operator objects against the operator's
# CRD schemas. The rendered YAML is left in build/deploy/ for a look.
# Needs `make ops-tools` (kustomize, kubeconform, the schemas, scripts/crd-validate).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.tools/go-bin
SCHEMAS=$PWD/.tools/k8s-schemas
K8S_VERSIONS=${K8S_VERSIONS:?K8S_VERSIONS: Kubernetes versions to validate against}
OUT=build/deploy
mkdir -p "$OUT"
rm -f "$OUT"/*.yaml

rendered=()
for kustomization in deploy/base/kustomization.yaml deploy/overlays/*/kustomization.yaml \
    deploy/monitoring/kustomization.yaml; do
    dir=$(dirname "$kustomization")
    name=$(basename "$dir")
    "$BIN/kustomize" build "$dir" >"$OUT/$name.yaml"
    rendered+=("$OUT/$name.yaml")
done

for version in $K8S_VERSIONS; do
    echo "kubeconform, Kubernetes $version: ${rendered[*]}"
    # The Prometheus Operator's kinds are CRDs: crd-validate below checks them.
    "$BIN/kubeconform" -strict -summary -kubernetes-version "$version" \
        -skip ServiceMonitor,PrometheusRule \
        -schema-location "$SCHEMAS/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
        "${rendered[@]}"
done
node scripts/crd-validate/validate.mjs "${rendered[@]}"
