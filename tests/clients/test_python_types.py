"""The Python client's README shows its tested examples verbatim, and mypy (pinned in uv.lock)
over the Python client: the package and its examples pass --strict, and the generated service
stub is really typed (a wrong request type or a wrong use of a response field is an error, not
Any)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
CLIENT = ROOT / "clients" / "python"


def mypy(*paths: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(CLIENT / "pyproject.toml"), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def test_the_client_and_its_examples_type_check_strictly():
    result = mypy(CLIENT / "src" / "polysync_platform_client", *sorted((CLIENT / "examples").glob("*.py")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_service_stub_is_typed(tmp_path):
    wrong = tmp_path / "wrong.py"
    wrong.write_text(
        "from polysync.platform.v1 import platform_service_pb2 as pb\n"
        "from polysync_platform_client import aio, connect\n"
        "client = connect('127.0.0.1:1')\n"
        "response = client.stub.ListPipelines(pb.GetPipelineRequest())\n"
        "name: int = response.pipelines[0].name\n"
        "async def f() -> None:\n"
        "    c = aio.connect('127.0.0.1:1')\n"
        "    r = await c.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id='x'))\n"
        "    code: str = r.run.exit_code\n"
    )
    out = mypy(wrong).stdout
    assert 'has incompatible type "GetPipelineRequest"; expected "ListPipelinesRequest"' in out, out
    assert 'expression has type "str", variable has type "int"' in out, out
    assert 'expression has type "int", variable has type "str"' in out, out


def test_the_client_readme_shows_each_tested_example_verbatim():
    readme = (CLIENT / "README.md").read_text()
    for example in sorted((CLIENT / "examples").glob("*.py")):
        assert example.read_text().strip() in readme, f"clients/python/README.md's copy of {example.name} differs"
