"""Opaque page tokens: base64url JSON bound to the filters of the listing that issued them."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from polysync_batch.domain.errors import invalid_page_token


def encode(state: dict[str, Any], filters: Any) -> str:
    raw = json.dumps({"s": state, "f": filters}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str, filters: Any) -> dict[str, Any] | None:
    """The state of a page token; None for the first page."""
    if not token:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        state, token_filters = payload["s"], payload["f"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        state, token_filters = None, None
    if state is None or token_filters != json.loads(json.dumps(filters)):
        raise invalid_page_token()
    return state
