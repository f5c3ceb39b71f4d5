"""Feed cursors (SPEC §12, §8.5): opaque, tamper-proof, bound to their platform and filters, and
naming the history that issued them.

A cursor is a token of domain/tokens.py (the one signing module: `<payload>.<mac>`, the HMAC
taken over the purpose "feed_cursor" and the payload, so a page token is never a cursor). The
payload is {"v": format, "h": history id, "p": position, "f": hash of platform + tags}. The key is
the configured `server.token_key_file` when there is one (as for page tokens), else the
history's own key (random per process in memory; in the history table, shared by its replicas).
A cursor whose history id is this server's is verified: a bad mac, or other filters, is
INVALID_ARGUMENT on `cursor`. A well-formed cursor of another history (an earlier process,
another table) or of an earlier cursor format cannot be verified here, and is CURSOR_EXPIRED:
relisting is the only answer to it either way."""

from __future__ import annotations

import hashlib
import json

from polysync_batch.domain import tokens
from polysync_batch.domain.errors import cursor_expired, invalid_cursor

PURPOSE = "feed_cursor"
FORMAT = 2  # 1: the cursors of feed/cursor.py's own HMAC, before domain/tokens.py signed them
MAX_LENGTH = 512


def _filters(platform: str, tags: dict[str, str]) -> str:
    raw = json.dumps([platform, sorted(tags.items())], separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


class CursorCodec:
    """Signs and checks the cursors of one history (`history_id`, its own `key`)."""

    def __init__(self, platform: str, history_id: str, key: bytes) -> None:
        self.platform = platform
        self.history_id = history_id
        self._key = key
        self._own: tokens.TokenSigner | None = None

    def _signer(self) -> tokens.TokenSigner:
        configured = tokens.configured()
        if configured is not None:
            return configured
        if self._own is None:
            self._own = tokens.TokenSigner(self._key)
        return self._own

    def encode(self, position: int, tags: dict[str, str]) -> str:
        payload = {"v": FORMAT, "h": self.history_id, "p": position, "f": _filters(self.platform, tags)}
        return self._signer().sign(PURPOSE, payload)

    def decode(self, cursor: str, tags: dict[str, str]) -> int:
        """The position a cursor names; raises INVALID_ARGUMENT or CURSOR_EXPIRED."""
        if len(cursor) > MAX_LENGTH:
            raise invalid_cursor("too long")
        data = tokens.unverified(cursor)
        if not isinstance(data, dict) or not {"h", "p", "f"} <= data.keys():
            raise invalid_cursor("malformed")
        history, position, filters = data["h"], data["p"], data["f"]
        if not (isinstance(history, str) and isinstance(filters, str) and type(position) is int and position >= 0):
            raise invalid_cursor("malformed")
        if history != self.history_id:
            raise cursor_expired(self.platform, "it was issued by another server process or history")
        if data.get("v") != FORMAT:
            raise cursor_expired(self.platform, "it was issued by an earlier version of the service")
        if self._signer().verify(PURPOSE, cursor) is None:
            raise invalid_cursor("altered or forged (its signature does not match)")
        if filters != _filters(self.platform, tags):
            raise invalid_cursor("issued for another platform or other tags")
        return position
