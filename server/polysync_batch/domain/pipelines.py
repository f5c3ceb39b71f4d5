"""Pure logic about job definitions: `Ref::` placeholders, dedupe to the latest revision, and
how a caller may name a pipeline."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# AWS Batch substitutes `Ref::<name>` with the job's parameter <name>.
REF_PATTERN = re.compile(r"Ref::([A-Za-z0-9_\-]+)")
# The parts of a job definition where AWS Batch substitutes parameters.
PLACEHOLDER_SECTIONS = ("containerProperties", "nodeProperties", "ecsProperties", "eksProperties")

_NAME = r"[A-Za-z0-9_\-]{1,128}"
_NAME_RE = re.compile(rf"^{_NAME}$")
_NAME_REVISION_RE = re.compile(rf"^({_NAME}):([1-9][0-9]*)$")
_ARN_RE = re.compile(rf"^arn:aws[a-z\-]*:batch:[a-z0-9\-]+:\d{{12}}:job-definition/({_NAME})(?::([1-9][0-9]*))?$")


def placeholders(definition: Mapping[str, Any]) -> list[str]:
    """Every `Ref::` name used in the definition's container, node, ECS or EKS properties."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.update(REF_PATTERN.findall(value))
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    for section in PLACEHOLDER_SECTIONS:
        walk(definition.get(section))
    return sorted(found)


def required_parameters(definition: Mapping[str, Any]) -> list[str]:
    """Placeholders without a default in the definition: a submit must give each a value."""
    defaults = definition.get("parameters") or {}
    return [name for name in placeholders(definition) if name not in defaults]


def missing_parameters(definition: Mapping[str, Any], given: Mapping[str, str]) -> list[str]:
    return [name for name in required_parameters(definition) if name not in given]


def latest_revisions(definitions: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One definition per name, the highest revision, ordered by name."""
    latest: dict[str, Mapping[str, Any]] = {}
    for definition in definitions:
        name = definition["jobDefinitionName"]
        if name not in latest or definition["revision"] > latest[name]["revision"]:
            latest[name] = definition
    return [latest[name] for name in sorted(latest)]


@dataclass(frozen=True)
class PipelineRef:
    """A pipeline as a caller named it: a bare name floats to the latest ACTIVE revision."""

    name: str
    revision: int | None  # None: the latest ACTIVE revision

    @property
    def pinned(self) -> bool:
        return self.revision is not None


def parse_pipeline_ref(text: str) -> PipelineRef | None:
    """Parses `name`, `name:revision` or a job definition ARN; None when it is none of them."""
    if _NAME_RE.match(text):
        return PipelineRef(text, None)
    if match := _NAME_REVISION_RE.match(text):
        return PipelineRef(match.group(1), int(match.group(2)))
    if match := _ARN_RE.match(text):
        revision = match.group(2)
        return PipelineRef(match.group(1), int(revision) if revision else None)
    return None
