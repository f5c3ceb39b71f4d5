"""Tamper-proof tokens handed to callers (SPEC §8.5): page tokens and §12 feed cursors.

A token is `<base64url JSON payload>.<base64url HMAC-SHA256>`, the MAC taken over a purpose
string and the payload, so a token of one kind (a page of ListPipelineRuns, a feed cursor) is
never accepted as another, and nothing a caller edits, forges or copies from elsewhere verifies.
The key is the configured `server.token_key_file` (shared by replicas, so each accepts the
others' tokens) or, without one, random per process (tokens then do not survive a restart).
The key is never logged. Feed cursors (feed/cursor.py) are signed here too: with the configured
key when there is one, else with their history's own key (kept in the history table, so every
replica of it verifies them without a configured key)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from pathlib import Path
from typing import Any

MIN_KEY_BYTES = 32
_MAC_BYTES = 16  # 128 bits: plenty against forgery, short enough for a page token


class TokenKeyError(ValueError):
    """The key file is missing, unreadable or too short (the message names no secret)."""


class TokenSigner:
    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise TokenKeyError(f"must hold at least {MIN_KEY_BYTES} bytes of secret")
        self._key = key

    @classmethod
    def random(cls) -> TokenSigner:
        return cls(secrets.token_bytes(MIN_KEY_BYTES))

    @classmethod
    def from_file(cls, path: Path) -> TokenSigner:
        try:
            key = path.read_bytes().strip()
        except OSError as error:
            raise TokenKeyError(f"cannot read {path}: {error.strerror}") from None
        return cls(key)

    def _mac(self, purpose: str, payload: bytes) -> bytes:
        return hmac.new(self._key, purpose.encode() + b"\0" + payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def sign(self, purpose: str, payload: Any) -> str:
        raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(raw)}.{_b64(self._mac(purpose, raw))}"

    def verify(self, purpose: str, token: str) -> Any | None:
        """The payload of a token this key signed for `purpose`; None for anything else."""
        body, dot, mac = token.partition(".")
        if not dot:
            return None
        try:
            raw, given = _unb64(body), _unb64(mac)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(given, self._mac(purpose, raw)):
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None


def unverified(token: str) -> Any | None:
    """The payload of a well-formed token, NOT verified (None if it is not one): for a token
    whose payload names what verifies it (a feed cursor's history). Verify before trusting it."""
    body, dot, _ = token.partition(".")
    if not dot:
        return None
    try:
        return json.loads(_unb64(body))
    except (binascii.Error, ValueError):
        return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))


_signer = TokenSigner.random()
_configured: TokenSigner | None = None  # the signer of server.token_key_file, once use_key_file read it


def signer() -> TokenSigner:
    """The process's signer: the configured key once `use_key_file` ran, else a random one."""
    return _signer


def configured() -> TokenSigner | None:
    """The signer of the configured `server.token_key_file`; None without one."""
    return _configured


def use_key_file(path: Path | None) -> None:
    """Signs and verifies with the key in `path` from now on (None: keep the per-process key)."""
    global _signer, _configured
    if path is not None:
        _signer = _configured = TokenSigner.from_file(path)
