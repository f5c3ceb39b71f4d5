"""Logging set-up. Events carry their data as structured fields (`extra={"fields": {...}}`),
so each formatter renders them its own way: JSON (the default; one object per line on stderr,
fields as top-level keys, python-json-logger) for machines, text with `key=value` after the
message for people (`serve --log-format text`). Events worth finding by name carry an
`event` field: rpc, server_started, server_stopping, server_stopped, emulator_started,
aws_throttled, poll_backoff, poll_failed."""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

NOISY = ("botocore", "werkzeug", "urllib3")
LOG_FORMATS = ("json", "text")


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields: dict[str, Any] = getattr(record, "fields", None) or {}
        if fields:
            text += " " + " ".join(f"{key}={value}" for key, value in fields.items() if value not in (None, ""))
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
        fields = log_data.pop("fields", None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                if value not in (None, ""):
                    log_data.setdefault(key, value)  # never overwrite time/level/logger/message


def configure_logging(level: int = logging.INFO, log_format: str = "json") -> None:
    handler = logging.StreamHandler()  # stderr
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
