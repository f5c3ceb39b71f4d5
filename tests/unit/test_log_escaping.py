"""observability/logging.py: fields a caller chose are cut, and both formats escape control
characters, so one event is one line with no terminal codes."""

from __future__ import annotations

import json
import logging

from polysync_batch.observability.logging import JsonFormatter, TextFormatter, bounded


def record(message: str, **fields: object) -> logging.LogRecord:
    event = logging.LogRecord("polysync_batch.rpc", logging.INFO, __file__, 1, message, (), None)
    event.fields = fields
    return event


def test_bounded_cuts_visibly():
    assert bounded("x" * 300) == "x" * 256 + "…[44 more characters cut]"
    assert bounded("short") == "short"


def test_text_quotes_and_escapes_so_one_event_is_one_line():
    line = TextFormatter().format(record("hi\nthere", run_id="a\nmethod=X code=OK", other="\x1b[2J", plain="ok"))
    assert "\n" not in line and "\x1b" not in line
    assert 'run_id="a\\nmethod=X code=OK"' in line and "plain=ok" in line and "hi\\nthere" in line


def test_json_escapes_c1_controls_too():
    line = JsonFormatter().format(record("m", run_id="\x9b1m\u2028x"))
    assert "\x9b" not in line and "\u2028" not in line
    assert json.loads(line)["run_id"] == "\\x9b1m\\u2028x"
