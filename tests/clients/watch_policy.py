"""clients/watch-policy.json, the one watch policy as data, for the Python replays
(tests/clients/test_watch_policy.py and tests/unit/test_watch_policy_table.py)."""

from __future__ import annotations

import json
import pathlib
from typing import Any

TABLE_PATH = pathlib.Path(__file__).resolve().parents[2] / "clients" / "watch-policy.json"
TABLE: dict[str, Any] = json.loads(TABLE_PATH.read_text())


def describe(run_id: str, native: str, *, heartbeat: bool, stale: bool) -> str:
    """An event as the table's `expect.events` writes it: "r1 RUNNING stale heartbeat"."""
    return " ".join([run_id, native] + (["stale"] if stale else []) + (["heartbeat"] if heartbeat else []))
