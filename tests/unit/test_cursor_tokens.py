"""Feed cursors are tokens of the one signing module (domain/tokens.py): signed with the
configured `server.token_key_file` when there is one (as page tokens are), else with their
history's own key; a page token is never a cursor, and a cursor of the old format is expired."""

import base64
import hashlib
import hmac
import json

import pytest
from polysync_batch.domain import paging, tokens
from polysync_batch.domain.errors import FailedPrecondition, InvalidArgument
from polysync_batch.feed.cursor import CursorCodec

KEY = b"c" * 32


@pytest.fixture
def configured(tmp_path, monkeypatch):
    """server.token_key_file as build_server reads it, undone afterwards."""
    monkeypatch.setattr(tokens, "_signer", tokens.signer())
    monkeypatch.setattr(tokens, "_configured", tokens.configured())
    key = tmp_path / "token.key"
    key.write_bytes(KEY + b"\n")
    tokens.use_key_file(key)
    return tokens.signer()


def test_with_a_configured_key_replicas_of_one_history_accept_each_others_cursors(configured):
    # Same history (a shared table), different own keys: the configured key is what signs.
    one, two = CursorCodec("p", "h1", b"1" * 32), CursorCodec("p", "h1", b"2" * 32)
    cursor = one.encode(7, {"team": "a"})
    assert two.decode(cursor, {"team": "a"}) == 7
    assert configured.verify("feed_cursor", cursor)["p"] == 7  # the one signer, purpose "feed_cursor"


def test_without_one_the_historys_own_key_signs():
    cursor = CursorCodec("p", "h1", b"1" * 32).encode(7, {})
    assert CursorCodec("p", "h1", b"1" * 32).decode(cursor, {}) == 7  # the table's key: any replica
    with pytest.raises(InvalidArgument):
        CursorCodec("p", "h1", b"2" * 32).decode(cursor, {})


def test_a_page_token_is_never_a_cursor(configured):
    token = configured.sign(paging.PURPOSE, {"v": 2, "h": "h1", "p": 1, "f": "x"})
    with pytest.raises(InvalidArgument) as refused:
        CursorCodec("p", "h1", b"1" * 32).decode(token, {})
    assert [v.field for v in refused.value.violations] == ["cursor"]


def test_a_cursor_of_the_old_format_is_expired_not_invalid():
    # feed/cursor.py's own HMAC before: base64url(payload) "." base64url(HMAC-SHA256[:18]).
    key, payload = b"1" * 32, json.dumps({"h": "h1", "p": 3, "f": "x"}, separators=(",", ":")).encode()
    mac = hmac.new(key, b"polysync-batch feed cursor v1\0" + payload, hashlib.sha256).digest()[:18]
    old = base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + base64.urlsafe_b64encode(mac).decode()
    with pytest.raises(FailedPrecondition) as expired:
        CursorCodec("p", "h1", key).decode(old, {})
    assert expired.value.reason == "CURSOR_EXPIRED"
