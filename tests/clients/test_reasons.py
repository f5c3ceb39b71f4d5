"""Each client's reason constants against the server's catalogue (domain/reasons.py): same
reasons, same order, nothing missing or extra, so no client lacks a reason the server sends."""

import ast
import re
from pathlib import Path

import polysync_platform_client.reasons as python_reasons
from polysync_batch.domain.reasons import CATALOGUE, ERROR_DOMAIN

ROOT = Path(__file__).parents[2]
HEADER = "Generated from server/polysync_batch/domain/reasons.py by scripts/generate-reasons.py; do not edit."
EXPECTED = [info.reason.value for info in CATALOGUE]


def pascal(reason: str) -> str:
    return "".join(word.capitalize() for word in reason.split("_"))


def python_constants() -> list[tuple[str, str]]:
    tree = ast.parse((ROOT / "clients/python/src/polysync_platform_client/reasons.py").read_text())
    return [
        (node.targets[0].id, node.value.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and node.targets[0].id != "ERROR_DOMAIN"
    ]


def test_python_reasons_match_the_catalogue():
    assert python_constants() == [(r, r) for r in EXPECTED]
    assert list(python_reasons.ALL) == EXPECTED
    assert python_reasons.ERROR_DOMAIN == ERROR_DOMAIN


def test_java_reasons_match_the_catalogue():
    text = (ROOT / "clients/java/src/main/java/io/polysync/platform/client/Reasons.java").read_text()
    constants = re.findall(r'public static final String (\w+) = "([^"]*)";', text)
    assert constants == [("DOMAIN", ERROR_DOMAIN)] + [(r, r) for r in EXPECTED]
    listed = re.search(r"List<String> ALL = List\.of\((.*?)\);", text, re.S).group(1)
    assert [name.strip() for name in listed.split(",")] == EXPECTED


def test_csharp_reasons_match_the_catalogue():
    text = (ROOT / "clients/csharp/Reasons.cs").read_text()
    constants = re.findall(r'public const string (\w+) = "([^"]*)";', text)
    assert constants == [("Domain", ERROR_DOMAIN)] + [(pascal(r), r) for r in EXPECTED]
    listed = re.search(r"All = new\[\]\s*\{(.*?)\};", text, re.S).group(1)
    assert [name.strip() for name in listed.split(",") if name.strip()] == [pascal(r) for r in EXPECTED]


def test_each_reason_file_says_where_it_comes_from():
    for path in [
        "clients/python/src/polysync_platform_client/reasons.py",
        "clients/java/src/main/java/io/polysync/platform/client/Reasons.java",
        "clients/csharp/Reasons.cs",
    ]:
        assert HEADER in (ROOT / path).read_text().splitlines()[0], path
