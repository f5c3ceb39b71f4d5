"""`make release-check` (scripts/release.py): every package carries VERSION and the proto hash,
and the check names what drifted."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
FILES = [
    "VERSION",
    "CHANGELOG.md",
    "scripts/release.py",
    "clients/go/platformclient/version.go",
    "clients/typescript/src/version.ts",
    "clients/typescript/package.json",
    "clients/typescript/package-lock.json",
    "clients/python/src/polysync_platform_client/_version.py",
    "clients/python/pyproject.toml",
    "clients/java/src/main/java/io/polysync/platform/client/Version.java",
    "clients/java/pom.xml",
    "clients/csharp/ClientVersion.cs",
    "clients/csharp/Polysync.Platform.Client.csproj",
    "tests/clients/consumer/java/pom.xml",
]


def copy(tmp: pathlib.Path) -> pathlib.Path:
    for name in FILES:
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp / name)
    shutil.copytree(ROOT / "proto", tmp / "proto")
    return tmp


def check(root: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "scripts/release.py"), "check"], capture_output=True, text=True, timeout=60
    )


def test_the_repository_passes_release_check():
    result = check(ROOT)
    assert result.returncode == 0, result.stderr


def test_release_check_names_a_package_with_another_version(tmp_path):
    root = copy(tmp_path)
    assert check(root).returncode == 0
    package = root / "clients/typescript/package.json"
    package.write_text(package.read_text().replace('"version": "', '"version": "9', 1))
    result = check(root)
    assert result.returncode == 1
    assert "clients/typescript/package.json: version ['90." in result.stderr


def test_release_check_notices_a_changed_proto_until_stamped(tmp_path):
    root = copy(tmp_path)
    proto = next((root / "proto").rglob("*.proto"))
    proto.write_text(proto.read_text() + "\n// a comment\n")
    result = check(root)
    assert result.returncode == 1
    assert "clients/go/platformclient/version.go: does not carry" in result.stderr
    subprocess.run([sys.executable, str(root / "scripts/release.py"), "stamp"], check=True, capture_output=True)
    assert check(root).returncode == 0
