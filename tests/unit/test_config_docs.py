"""docs/configuration.md lists every key config.py accepts, in the table of its section."""

import re
from pathlib import Path

import pytest
from polysync_batch.config import (
    AccessConfig,
    AuthConfig,
    CallerAuthConfig,
    EventsConfig,
    JwtConfig,
    MetricsConfig,
    PlatformConfig,
    ServerConfig,
    TlsConfig,
    TracingConfig,
    WatchConfig,
)

DOC = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()


def section(heading: str) -> str:
    match = re.search(rf"^### `{re.escape(heading)}`\n(.*?)(?=^### |\Z)", DOC, re.S | re.M)
    assert match, f"docs/configuration.md has no section {heading}"
    return match.group(1)


@pytest.mark.parametrize(
    "heading,model",
    [
        ("[server]", ServerConfig),
        ("[watch]", WatchConfig),
        ("[metrics]", MetricsConfig),
        ("[tracing]", TracingConfig),
        ("[platforms.<name>]", PlatformConfig),
        ("[platforms.<name>.auth]", AuthConfig),
        ("[platforms.<name>.events]", EventsConfig),
        ("[server.tls]", TlsConfig),
        ("[auth]", CallerAuthConfig),
        ("[auth.jwt]", JwtConfig),
        ("[platforms.<name>.access]", AccessConfig),
    ],
)
def test_every_key_is_documented_in_its_section(heading, model):
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", section(heading), re.M))
    assert set(model.model_fields) - rows == set(), f"undocumented keys in {heading}"
    assert rows - set(model.model_fields) == set(), f"documented keys that do not exist in {heading}"
