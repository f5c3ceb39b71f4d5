"""Logging set-up. Events carry their data as structured fields (`extra={"fields": {...}}`),
so each formatter renders them its own way: JSON (the default; one object per line on stderr,
fields as top-level keys, python-json-logger) for machines, text with `key=value` after the
message for people (`serve --log-format text`). Events worth finding by name carry an
`event` field: rpc, server_started, server_stopping, server_stopped, emulator_started,
aws_throttled, poll_backoff, poll_failed.

Nothing a caller sends can forge a line or flood the log: a field copied from a request is cut
to 256 characters (`bounded`, visibly), and every formatter escapes control characters (a
newline becomes the two characters \\n, ESC becomes \\x1b) in the message and in every field."""

from __future__ import annotations

import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

NOISY = ("botocore", "werkzeug", "urllib3")
LOG_FORMATS = ("json", "text")
MAX_FIELD_CHARS = 256  # a field copied from a request (SPEC §8.5)
MAX_ANY_FIELD_CHARS = 4096  # any field at all: a last bound for text the server did not write itself
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def escape(text: str) -> str:
    """`text` with every control character written out (\\n, \\x1b, …): one line, no terminal codes."""
    return _CONTROL.sub(_escape_one, text) if _CONTROL.search(text) else text


_NEEDS_QUOTES = re.compile('[\\s"=\\\\\x00-\x1f\x7f-\x9f\u2028\u2029]')


def bounded(value: str, limit: int = MAX_FIELD_CHARS) -> str:
    """`value` cut to `limit` characters, visibly: for anything a caller chose (the formatters escape)."""
    if len(value) > limit:
        value = f"{value[:limit]}…[{len(value) - limit} more characters cut]"
    return value


def _json_value(value: Any) -> Any:
    return escape(bounded(value, MAX_ANY_FIELD_CHARS)) if isinstance(value, str) else value


def _text_value(value: Any) -> str:
    """key=value's value: bare when plain, else quoted with \\ and \\" and control characters escaped."""
    text = bounded(str(value), MAX_ANY_FIELD_CHARS)
    if text and not _NEEDS_QUOTES.search(text):
        return text
    return '"' + escape(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape(record.message)
        text = super().formatMessage(record)
        fields: dict[str, Any] = getattr(record, "fields", None) or {}
        if fields:  # key=value; a value with a space, quote, = or backslash is quoted
            text += " " + " ".join(
                f"{key}={_text_value(value)}" for key, value in fields.items() if value not in (None, "")
            )
        return text


class JsonFormatter(_JsonFormatter):
    """{"time", "level", "logger", "message", <the event's fields>, "exc_info" when any}."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            json_ensure_ascii=False,
        )

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        if isinstance(log_data.get("message"), str):
            log_data["message"] = escape(log_data["message"])
        fields = log_data.pop("fields", None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                if value not in (None, ""):
                    log_data.setdefault(key, _json_value(value))  # never overwrite time/level/logger/message


def configure_logging(level: int = logging.INFO, log_format: str = "json") -> None:
    handler = logging.StreamHandler()  # stderr
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
