"""The JWT signing keys by `kid`, from a JWKS file or URL. Loading is blocking I/O, so it always
runs in a thread, never on the event loop; an unknown kid reloads at most once a minute
(`jwks_refresh_seconds`), and after a failed load within RETRY_SECONDS, so keys are back
seconds after the IdP is (SPEC §8.5)."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import jwt

log = logging.getLogger(__name__)
MAX_JWKS_BYTES = 1024 * 1024
FETCH_TIMEOUT_SECONDS = 5.0
RETRY_SECONDS = 2.0  # after a failed load, the next unknown kid loads again this soon


def parse_jwks(data: bytes) -> dict[str | None, jwt.PyJWK]:
    """Asymmetric keys of a JWKS document by kid; symmetric ("oct") and unusable keys are skipped."""
    document = json.loads(data)
    keys: dict[str | None, jwt.PyJWK] = {}
    for entry in document.get("keys", []) if isinstance(document, dict) else []:
        if not isinstance(entry, dict) or entry.get("kty") not in ("RSA", "EC", "OKP"):
            continue
        if entry.get("use", "sig") != "sig":
            continue
        try:
            keys[entry.get("kid")] = jwt.PyJWK(entry)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, KeyError, TypeError) as error:
            log.warning("JWKS key %r skipped: %s", entry.get("kid"), error)
    return keys


class JwksKeys:
    def __init__(
        self, *, file: Path | None, url: str | None, refresh_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._file = file
        self._url = url
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._next_load = -math.inf  # clock() from which an unknown kid may load the keys again
        self._lock = asyncio.Lock()
        self.last_error: str | None = None

    @property
    def from_file(self) -> bool:
        return self._file is not None

    @property
    def source(self) -> str:
        return str(self._file) if self._file is not None else str(self._url)

    def _load(self) -> dict[str | None, jwt.PyJWK]:  # blocking: only ever called through a thread
        if self._file is not None:
            data = self._file.read_bytes()
        else:
            with urllib.request.urlopen(self._url, timeout=FETCH_TIMEOUT_SECONDS) as answer:
                data = answer.read(MAX_JWKS_BYTES + 1)
            if len(data) > MAX_JWKS_BYTES:
                raise ValueError("JWKS larger than 1 MiB")
        return parse_jwks(data)

    async def reload(self) -> bool:
        """Load the keys (in a thread); False, keeping the old keys, if that failed."""
        started = self._clock()
        self._next_load = started + self._refresh_seconds
        try:
            keys = await asyncio.to_thread(self._load)
            if not keys:
                raise ValueError("no usable asymmetric signing key in it")
        except Exception as error:
            self._next_load = started + min(RETRY_SECONDS, self._refresh_seconds)
            self.last_error = str(error) or type(error).__name__
            log.warning("cannot load the JWT signing keys from %s: %s", self.source, self.last_error)
            return False
        self._keys, self.last_error = keys, None
        log.info("loaded %d JWT signing key(s) from %s", len(self._keys), self.source)
        return True

    async def key(self, kid: str | None) -> jwt.PyJWK | None:
        """The key for `kid` (a token without kid: the only key, if there is one)."""
        found = self.loaded(kid)
        if found is not None:
            return found
        async with self._lock:
            found = self.loaded(kid)  # another call may have reloaded meanwhile
            if found is None and self._clock() >= self._next_load:
                await self.reload()
                found = self.loaded(kid)
        return found

    def loaded(self, kid: str | None) -> jwt.PyJWK | None:
        """The key for `kid` among those loaded now, without reloading."""
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)
