"""security/jwks.py: keys by kid, symmetric keys dropped, an unknown kid reloads at most once per
refresh interval (a clock is injected), and the load runs in a thread."""

import json
import threading

from polysync_batch.security.jwks import JwksKeys, parse_jwks

from tests.security_support import Signer, counting_jwks_keys, write_jwks


async def test_an_unknown_kid_reloads_at_most_once_per_interval(tmp_path, monkeypatch):
    first, second = Signer("k1"), Signer("k2")
    path = write_jwks(tmp_path / "jwks.json", first)
    now = [1000.0]
    keys = counting_jwks_keys(file=path, url=None, refresh_seconds=60, clock=lambda: now[0])
    threads = []
    load = keys._load
    monkeypatch.setattr(keys, "_load", lambda: (threads.append(threading.current_thread()), load())[1])
    assert await keys.reload() and keys.loads == 1
    assert (await keys.key("k1")) is not None
    write_jwks(path, first, second)  # the IdP rotated in a new key
    now[0] += 30
    assert await keys.key("k2") is None and keys.loads == 1  # too soon after the last load
    now[0] += 31
    assert await keys.key("k2") is not None and keys.loads == 2
    assert await keys.key("k3") is None and await keys.key("k4") is None and keys.loads == 2
    assert threads and threading.main_thread() not in threads  # never on the event loop's thread


def test_symmetric_and_unusable_keys_are_dropped():
    signer = Signer("k1")
    document = {
        "keys": [
            signer.jwk(),
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "broken", "n": "x"},
            {**signer.jwk(), "kid": "enc", "use": "enc"},
        ]
    }
    assert list(parse_jwks(json.dumps(document).encode())) == ["k1"]


async def test_a_token_without_kid_uses_the_only_key(tmp_path):
    keys = JwksKeys(file=write_jwks(tmp_path / "one.json", Signer("k1")), url=None, refresh_seconds=60)
    await keys.reload()
    assert await keys.key(None) is not None
    keys2 = JwksKeys(file=write_jwks(tmp_path / "two.json", Signer("a"), Signer("b")), url=None, refresh_seconds=60)
    await keys2.reload()
    assert await keys2.key(None) is None


async def test_an_unusable_jwks_file_stops_start_up_naming_the_key(tmp_path):
    import pytest
    from polysync_batch.config import CallerAuthConfig, ConfigError, JwtConfig
    from polysync_batch.security.callers import Authenticator

    for content in ("not json", '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}'):
        (tmp_path / "jwks.json").write_text(content)
        auth = Authenticator(
            CallerAuthConfig(jwt=JwtConfig(jwks_file=tmp_path / "jwks.json", issuer="i", audience="a")),
            certificates=False,
        )
        with pytest.raises(ConfigError, match=r"^auth\.jwt\.jwks_file: cannot load"):
            await auth.start()


async def test_a_failed_load_is_retried_within_seconds_not_after_the_refresh_interval(tmp_path):
    from polysync_batch.security.jwks import RETRY_SECONDS

    path = tmp_path / "jwks.json"  # not there yet: the IdP is down
    now = [1000.0]
    keys = counting_jwks_keys(file=path, url=None, refresh_seconds=60, clock=lambda: now[0])
    assert not await keys.reload()
    write_jwks(path, Signer("k1"))  # the IdP is back
    assert await keys.key("k1") is None and keys.loads == 1  # at once: not yet
    now[0] += RETRY_SECONDS
    assert await keys.key("k1") is not None and keys.loads == 2
    assert RETRY_SECONDS <= 5
