"""No Docker engine here: the Dockerfile is parsed with buildkit's own parser and checked for
what a build would trip over or a reviewer would reject."""

import re
from pathlib import Path

import dockerfile

ROOT = Path(__file__).parents[2]
COMMANDS = dockerfile.parse_file(str(ROOT / "Dockerfile"))


def stages():
    found = []
    for command in COMMANDS:
        if command.cmd == "FROM":
            found.append([])
        found[-1].append(command)
    return found


def test_multi_stage_and_the_final_stage_runs_as_a_non_root_user():
    build, final = stages()
    assert len(stages()) == 2
    users = [c.value[0] for c in final if c.cmd == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert not any(c.cmd == "RUN" and "uv" in c.original for c in final)  # no build tools shipped


def test_entrypoint_is_exec_form_and_serves():
    entrypoint = [c for c in COMMANDS if c.cmd == "ENTRYPOINT"]
    assert len(entrypoint) == 1 and entrypoint[0].json
    assert list(entrypoint[0].value) == ["polysync-batch", "serve"]


def test_every_copy_source_exists_and_the_repo_is_not_copied_whole():
    for command in COMMANDS:
        if command.cmd != "COPY" or any(flag.startswith("--from") for flag in command.flags):
            continue
        *sources, _ = command.value
        for source in sources:
            assert source not in (".", "./", "*"), "no COPY of the whole repository"
            assert (ROOT / source).exists(), f"COPY {source}: no such path"


def test_pinned_tools_match_the_makefile_and_lock():
    uv = re.search(r"^UV_VERSION := (\S+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert f"uv=={uv}" in (ROOT / "Dockerfile").read_text()
    assert all(re.match(r"python:\d+\.\d+\.\d+-", c.value[0]) for c in COMMANDS if c.cmd == "FROM")
    assert any("--frozen" in c.original for c in COMMANDS if c.cmd == "RUN")
