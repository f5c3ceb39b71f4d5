"""Logging set-up. Events carry their data as structured fields (`extra={"fields": {...}}`),
so each formatter renders them its own way: text for people, `key=value` after the message."""

from __future__ import annotations

import logging
from typing import Any

NOISY = ("botocore", "werkzeug", "urllib3")


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields: dict[str, Any] = getattr(record, "fields", None) or {}
        if fields:
            text += " " + " ".join(f"{key}={value}" for key, value in fields.items() if value not in (None, ""))
        return text


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
