"""Opaque, tamper-proof page tokens (SPEC §8.5): the listing's state, signed (domain.tokens)
together with the filters and platform of the listing that issued it. Anything else — altered,
forged, another platform's or other filters' — is INVALID_ARGUMENT on `page_token`."""

from __future__ import annotations

import json
from typing import Any

from polysync_batch.domain import tokens
from polysync_batch.domain.errors import invalid_page_token

PURPOSE = "page_token"


def encode(state: dict[str, Any], filters: Any) -> str:
    return tokens.signer().sign(PURPOSE, {"s": state, "f": filters})


def decode(token: str, filters: Any) -> dict[str, Any] | None:
    """The state of a page token; None for the first page. `filters` must name the platform."""
    if not token:
        return None
    payload = tokens.signer().verify(PURPOSE, token) if len(token) <= 4096 else None
    issued_here = isinstance(payload, dict) and payload.get("f") == json.loads(json.dumps(filters))
    if not issued_here or not isinstance(payload.get("s"), dict):
        raise invalid_page_token()
    return payload["s"]
