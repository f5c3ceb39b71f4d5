"""Feed cursors (SPEC §12, §8.5): opaque, tamper-proof, bound to their platform and filters, and
naming the history that issued them.

A cursor is base64url of `<payload>.<mac>`; the payload is JSON {"h": history id, "p": position,
"f": hash of platform + tags}, the mac an HMAC-SHA256 of it under the history's key. A cursor
whose history id is this server's is verified: a bad mac, or other filters, is INVALID_ARGUMENT
on `cursor`. A well-formed cursor of another history (an earlier process, another table) cannot
be verified with a key this server does not have, and is CURSOR_EXPIRED: relisting is the only
answer to it either way."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from polysync_batch.domain.errors import cursor_expired, invalid_cursor

PURPOSE = b"polysync-batch feed cursor v1"


def _filters(platform: str, tags: dict[str, str]) -> str:
    raw = json.dumps([platform, sorted(tags.items())], separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


class CursorCodec:
    """Signs and checks the cursors of one history (`history_id`, `key`)."""

    def __init__(self, platform: str, history_id: str, key: bytes) -> None:
        self.platform = platform
        self.history_id = history_id
        self._key = key

    def _mac(self, payload: bytes) -> str:
        digest = hmac.new(self._key, PURPOSE + b"\0" + payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode()

    def encode(self, position: int, tags: dict[str, str]) -> str:
        payload = json.dumps(
            {"h": self.history_id, "p": position, "f": _filters(self.platform, tags)}, separators=(",", ":")
        ).encode()
        token = base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + self._mac(payload)
        return token

    def decode(self, cursor: str, tags: dict[str, str]) -> int:
        """The position a cursor names; raises INVALID_ARGUMENT or CURSOR_EXPIRED."""
        if len(cursor) > 512:
            raise invalid_cursor("too long")
        body, _, mac = cursor.partition(".")
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            data = json.loads(payload)
            history, position, filters = data["h"], data["p"], data["f"]
        except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise invalid_cursor("malformed") from None
        if not (isinstance(history, str) and isinstance(filters, str) and type(position) is int and position >= 0):
            raise invalid_cursor("malformed")
        if history != self.history_id:
            raise cursor_expired(self.platform, "it was issued by another server process or history")
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise invalid_cursor("altered or forged (its signature does not match)")
        if filters != _filters(self.platform, tags):
            raise invalid_cursor("issued for another platform or other tags")
        return position
