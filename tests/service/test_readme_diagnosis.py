"""The README's "Why a run failed: the demo plays each cause" walkthrough, run with grpcurl as
written against `polysync-batch serve` (the demo, as `make run` starts it)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import serving_demo

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


@pytest.mark.timeout(240)
def test_readme_failure_causes_walkthrough_runs_as_written():
    assert shutil.which("grpcurl"), "grpcurl is not on PATH: `make tools` installs it into .tools/go-bin"
    block = re.search(r"### Why a run failed: the demo plays each cause.*?```sh\n(.*?)```", README, re.S).group(1)
    with serving_demo() as target:
        script = block.replace("127.0.0.1:50051", target)
        result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=200, env=os.environ)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    for cause in (
        "OUT_OF_MEMORY",
        "IMAGE_PULL",
        "TIMEOUT",
        "HOST_TERMINATED",
        "DEPENDENCY",
        "UNSCHEDULABLE",
        "CANCELLED",
    ):
        assert f'"FAILURE_CAUSE_{cause}"' in out, cause
    assert '"attempt_details"' in out and '"queue_position"' in out
    assert "evaluateOnExit" in out and "memory_mib" in out  # advice in warnings
    assert out.count("JOB_CANNOT_BE_PLACED") >= 2 and '"largest_vcpus": "4"' in out
    # The emulator's "Batch Job Queue Blocked" event reached the blocked run's warnings.
    assert "Job queue polysync-demo is blocked by this run" in out
