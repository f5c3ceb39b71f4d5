"""One vocabulary across the five clients (docs/clients.md, "One vocabulary"): every name of the
table is exported by its client, and each row's names are one name up to the language's casing
(and C#'s Async suffix). Python by import; Go with `go doc -short`; TypeScript from the exports
of src/index.ts; Java and C# from their source (no compiler needed)."""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess

import polysync_platform_client
import polysync_platform_client.aio as aio
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "clients.md").read_text()
LANGUAGES = ["Python", "Go", "TypeScript", "Java", "C#"]


def table() -> list[dict[str, str]]:
    block = DOC[DOC.index("<!-- names:") : DOC.index("<!-- /names -->")]
    rows = [line for line in block.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert header == ["operation", *LANGUAGES]
    out = []
    for line in rows[2:]:
        cells = [cell.strip().strip("`") for cell in line.strip("|").split("|")]
        out.append(dict(zip(header, cells, strict=True)))
    return out


ROWS = table()


def normal(name: str) -> str:
    name = name.split(".")[-1]
    name = re.sub(r"Async$", "", name)
    return re.sub(r"[^a-z0-9]", "", name.lower())


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["operation"])
def test_a_row_is_one_name_up_to_casing(row):
    assert {normal(row[language]) for language in LANGUAGES} == {normal(row["Python"])}, row


def test_python_exports_every_name():
    for row in ROWS:
        name = row["Python"]
        on_client = hasattr(polysync_platform_client.PlatformClient, name) and hasattr(aio.PlatformClient, name)
        assert on_client or hasattr(polysync_platform_client, name), name


def test_go_exports_every_name():
    go = shutil.which("go")
    if go is None:
        pytest.skip("no go toolchain on PATH")
    doc = subprocess.run(
        [go, "doc", "-short", "./platformclient"],
        cwd=ROOT / "clients" / "go",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    # Constructors and methods are listed indented under their type.
    declared = set(re.findall(r"^\s*(?:func(?: \(\w+ \*?\w+\))?|const|var|type) (\w+)", doc, re.M))
    for row in ROWS:
        assert row["Go"] in declared, f"platformclient does not export {row['Go']}"


def _go_source() -> str:
    return "".join(
        p.read_text() for p in (ROOT / "clients/go/platformclient").glob("*.go") if not p.name.endswith("_test.go")
    )


def test_typescript_exports_every_name():
    index = (ROOT / "clients/typescript/src/index.ts").read_text()
    exported = set()
    for names in re.findall(r"export \{([^}]*)\} from", index):
        exported |= {n.strip().removeprefix("type ").strip() for n in names.split(",") if n.strip()}
    for row in ROWS:
        assert row["TypeScript"] in exported, f"@polysync/platform-client does not export {row['TypeScript']}"


def _declared(source: str, cls: str, name: str) -> bool:
    """A public member `name` of `cls` in Java or C# source: a method or a constant."""
    return re.search(rf"public (?:static )?(?:final |const )?[\w<>?,\[\] .]+ {re.escape(name)}\b", source) is not None


@pytest.mark.parametrize(
    ("language", "directory", "default_class"),
    [
        ("Java", "clients/java/src/main/java/io/polysync/platform/client", "PlatformClient"),
        ("C#", "clients/csharp", "PlatformClient"),
    ],
)
def test_java_and_csharp_declare_every_name(language, directory, default_class):
    sources = {p.stem: p.read_text() for p in (ROOT / directory).glob("*.java" if language == "Java" else "*.cs")}
    for row in ROWS:
        cls, _, name = row[language].rpartition(".")
        cls = cls or default_class
        assert cls in sources, f"{language}: no class {cls}"
        assert _declared(sources[cls], cls, name), f"{language}: {cls} does not declare {name}"


def test_no_reason_is_the_empty_string_in_every_client():
    assert polysync_platform_client.reason(_PlainError()) == ""
    ts = (ROOT / "clients/typescript/src/errors.ts").read_text()
    assert 'export function reason(err: unknown): string {\n  return errorInfo(err)?.reason ?? "";' in ts
    assert "return ErrorInfo(err).GetReason()" in _go_source()  # "" on a nil ErrorInfo
    java = (ROOT / "clients/java/src/main/java/io/polysync/platform/client/Errors.java").read_text()
    assert re.search(
        r'reason\(Throwable error\) \{\s*return errorInfo\(error\)\.map\(ErrorInfo::getReason\)\.orElse\(""\);', java
    )
    assert '?.Reason ?? "";' in (ROOT / "clients/csharp/Errors.cs").read_text()


class _PlainError(Exception):
    def trailing_metadata(self) -> tuple[()]:
        return ()
