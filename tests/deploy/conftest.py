"""The deploy/ checks need kustomize and promtool (`make ops-tools`). `make test-ops` names
them in KUSTOMIZE and PROMTOOL, and then a missing one fails; a plain `pytest` skips the
checks whose tool is not installed."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]
DEFAULTS = {"KUSTOMIZE": ROOT / ".tools/go-bin/kustomize", "PROMTOOL": ROOT / ".tools/bin/promtool"}


def tool(variable: str) -> str:
    named = os.environ.get(variable)
    path = named or str(DEFAULTS[variable])
    if shutil.which(path) is None:
        if named:
            pytest.fail(f"{variable}={named}: not an executable")
        pytest.skip(f"{path} not installed (make ops-tools)")
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return tool("PROMTOOL")


@pytest.fixture(scope="session")
def render():
    """kustomize build of a directory under deploy/, as {(kind, name): object}."""
    kustomize = tool("KUSTOMIZE")
    cache: dict[str, dict] = {}

    def build(path: str) -> dict:
        if path not in cache:
            out = subprocess.run(
                [kustomize, "build", str(ROOT / path)], check=True, capture_output=True, text=True
            ).stdout
            objects = [o for o in yaml.safe_load_all(out) if o]
            cache[path] = {(o["kind"], o["metadata"]["name"]): o for o in objects}
        return cache[path]

    return build
