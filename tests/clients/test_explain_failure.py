"""Every case of clients/explain-failure.json: `explain_failure(run)` returns its exact text for
the run given in the proto's JSON mapping; the other clients replay the same file
(docs/clients.md, "Why a run failed, in words")."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import polysync_platform_client
import pytest
from google.protobuf import json_format
from polysync.platform.v1 import pipeline_run_pb2

ROOT = pathlib.Path(__file__).resolve().parents[2]
TABLE: dict[str, Any] = json.loads((ROOT / "clients" / "explain-failure.json").read_text())


@pytest.mark.parametrize("case", TABLE["cases"], ids=lambda c: c["name"])
def test_case(case):
    run = json_format.ParseDict(case["run"], pipeline_run_pb2.PipelineRun())
    assert polysync_platform_client.explain_failure(run) == case["text"]


def test_it_is_reachable_from_the_top_level_like_the_error_helpers():
    assert "explain_failure" in polysync_platform_client.__all__
