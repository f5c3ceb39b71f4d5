"""Signed tokens (domain.tokens) and the page tokens built on them (domain.paging)."""

from __future__ import annotations

import pytest
from polysync_batch.config import ConfigError, load_config
from polysync_batch.domain import paging, tokens
from polysync_batch.domain.errors import InvalidArgument
from polysync_batch.domain.tokens import TokenKeyError, TokenSigner

KEY = b"k" * 32


def test_a_token_verifies_only_under_its_key_and_purpose():
    token = TokenSigner(KEY).sign("page_token", {"s": {"i": 1}})
    assert TokenSigner(KEY).verify("page_token", token) == {"s": {"i": 1}}  # another replica, same key
    assert TokenSigner(b"x" * 32).verify("page_token", token) is None
    assert TokenSigner(KEY).verify("cursor", token) is None  # a page token is not a feed cursor


@pytest.mark.parametrize("bad", ["", ".", "abc", "abc.def", "e30.", "e30.AAAA", "!!.!!", "e30.e30.e30", "é.é"])
def test_anything_else_does_not_verify(bad):
    assert TokenSigner(KEY).verify("page_token", bad) is None


def test_an_altered_payload_does_not_verify():
    signer = TokenSigner(KEY)
    body, mac = signer.sign("page_token", {"i": 1}).split(".")
    other, _ = signer.sign("page_token", {"i": 2}).split(".")
    assert signer.verify("page_token", f"{other}.{mac}") is None


def test_the_key_file_must_hold_enough_secret(tmp_path):
    short = tmp_path / "short"
    short.write_bytes(b"too short")
    with pytest.raises(TokenKeyError, match="at least 32 bytes"):
        TokenSigner.from_file(short)
    with pytest.raises(TokenKeyError, match="cannot read"):
        TokenSigner.from_file(tmp_path / "missing")


def test_the_config_refuses_a_bad_key_file_naming_the_key_not_the_secret(tmp_path):
    short = tmp_path / "key"
    short.write_bytes(b"secret-but-short")
    config = tmp_path / "c.toml"
    config.write_text(f'[server]\ntoken_key_file = "{short}"\n')
    with pytest.raises(ConfigError) as refused:
        load_config(str(config), {})
    assert "server.token_key_file" in str(refused.value) and "secret-but-short" not in str(refused.value)


def test_page_tokens_are_bound_to_their_filters_and_platform():
    filters = {"q": "queue", "pl": "prod"}
    token = paging.encode({"i": 1, "t": "aws"}, filters)
    assert paging.decode(token, filters) == {"i": 1, "t": "aws"}
    for other in ({"q": "queue", "pl": "team"}, {"q": "other", "pl": "prod"}):
        with pytest.raises(InvalidArgument) as refused:
            paging.decode(token, other)
        assert [v.field for v in refused.value.violations] == ["page_token"]


def test_the_configured_key_replaces_the_per_process_one(tmp_path, monkeypatch):
    monkeypatch.setattr(tokens, "_signer", tokens.signer())
    key = tmp_path / "key"
    key.write_bytes(KEY + b"\n")
    token = paging.encode({"after": "a"}, {"pl": "p"})
    tokens.use_key_file(key)
    with pytest.raises(InvalidArgument):
        paging.decode(token, {"pl": "p"})  # signed by the old key
    assert TokenSigner(KEY).verify(paging.PURPOSE, paging.encode({"after": "a"}, {"pl": "p"})) is not None
