"""Kubernetes API JSON schemas for kubeconform, offline: from the kubernetes-validate wheel
(PyPI), whose schemas point into one shared `_definitions.json`. kubeconform wants each kind's
schema on its own, so each is written with just the definitions it reaches, under
`<out>/<version>-standalone-strict/<kind>-<group>-<version>.json` (kubeconform's layout).

usage: python3 scripts/k8s-schemas.py WHEEL OUT K8S_VERSION...
"""

import json
import sys
import zipfile
from pathlib import Path

PREFIX = "kubernetes_validate/kubernetes-json-schema"
# A kind's schema points into the shared file; the shared definitions point within it.
REFS = ("/api/_definitions.json#/$defs/", "#/$defs/")


def definition(ref):
    """The definition name a `$ref` points at, or None."""
    for prefix in REFS:
        if isinstance(ref, str) and ref.startswith(prefix):
            return ref[len(prefix) :]
    return None


def refs(node):
    if isinstance(node, dict):
        name = definition(node.get("$ref"))
        if name is not None:
            yield name
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def local(node):
    """The schema with each definition reference made local: `#/definitions/…` (draft 4, as
    kubeconform reads it)."""
    if isinstance(node, dict):
        return {
            key: "#/definitions/" + definition(value)
            if key == "$ref" and definition(value) is not None
            else local(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [local(value) for value in node]
    return node


def bundle(schema, definitions):
    needed, todo = set(), list(refs(schema))
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo.extend(refs(definitions[name]))
    bundled = local(schema)
    if needed:
        bundled["definitions"] = {name: local(definitions[name]) for name in sorted(needed)}
    return bundled


def main(wheel, out, *versions):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        for version in versions:
            source = f"{PREFIX}/v{version}-local-strict/"
            members = [n for n in names if n.startswith(source) and n.endswith(".json")]
            if not members:
                sys.exit(f"{wheel}: no schemas for Kubernetes {version}")
            definitions = json.loads(archive.read(source + "_definitions.json"))["$defs"]
            target = Path(out) / f"v{version}-standalone-strict"
            target.mkdir(parents=True, exist_ok=True)
            for member in members:
                name = member[len(source) :]
                if name.startswith("_") or name == "all.json":
                    continue
                schema = bundle(json.loads(archive.read(member)), definitions)
                (target / name).write_text(json.dumps(schema, separators=(",", ":")))


if __name__ == "__main__":
    main(*sys.argv[1:])
