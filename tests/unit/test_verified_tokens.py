"""security/callers.py's cache of verified JWTs: a token is verified once and then answered from
the cache, but never at or past its exp, never once its key left the JWKS, and a bad token is never
cached (a clock is injected; the signature check is counted through PyJWT's decode)."""

import jwt
import pytest
from polysync_batch.config import JwtConfig
from polysync_batch.domain import errors
from polysync_batch.security import callers
from polysync_batch.security.callers import JwtVerifier

from tests.security_support import AUDIENCE, ISSUER, Signer, write_jwks


def refuse(what: str) -> errors.Unauthenticated:
    return errors.caller_unauthenticated(what)


@pytest.fixture
def counted(monkeypatch):
    decodes = []
    real = jwt.decode
    monkeypatch.setattr(callers.jwt, "decode", lambda *a, **k: (decodes.append(1), real(*a, **k))[1])
    return decodes


async def verifier(tmp_path, *signers: Signer, now: list[float]) -> JwtVerifier:
    config = JwtConfig(
        jwks_file=write_jwks(tmp_path / "jwks.json", *signers), issuer=ISSUER, audience=AUDIENCE, leeway_seconds=0
    )
    verifying = JwtVerifier(config, clock=lambda: now[0])
    assert await verifying.keys.reload()
    return verifying


async def test_a_token_is_verified_once_then_answered_from_the_cache_until_its_exp(tmp_path, counted):
    signer = Signer("k1")
    token = signer.token(lifetime=60)
    now = [jwt.decode(token, options={"verify_signature": False})["iat"] + 1.0]
    verifying = await verifier(tmp_path, signer, now=now)
    counted.clear()
    first = await verifying.verify(token, refuse)
    for _ in range(5):
        assert await verifying.verify(token, refuse) == first
    assert len(counted) == 1 and first.name == "jwt-caller"
    now[0] = first.expires_at  # at exp (on the cache's clock) the cache no longer answers: PyJWT is asked
    await verifying.verify(token, refuse)
    assert len(counted) == 2


async def test_a_cached_token_is_refused_once_its_key_is_rotated_away(tmp_path, counted):
    old, new = Signer("k1"), Signer("k2")
    token = old.token(lifetime=300)
    verifying = await verifier(tmp_path, old, now=[0.0])
    verifying.verified._clock = lambda: 0.0  # exp is far ahead
    await verifying.verify(token, refuse)
    write_jwks(tmp_path / "jwks.json", new)
    assert await verifying.keys.reload()
    with pytest.raises(errors.Unauthenticated, match="unknown key"):
        await verifying.verify(token, refuse)


async def test_bad_tokens_are_never_cached_and_the_cache_is_bounded(tmp_path, counted):
    signer, stranger = Signer("k1"), Signer("k1")
    verifying = await verifier(tmp_path, signer, now=[0.0])
    bad = stranger.token()  # same kid, other key: a bad signature
    for _ in range(3):
        with pytest.raises(errors.Unauthenticated, match="signature is bad"):
            await verifying.verify(bad, refuse)
    assert len(counted) == 3
    verifying.verified._capacity = 2
    tokens = [signer.token(sub=f"caller-{i}") for i in range(3)]
    for token in tokens:
        await verifying.verify(token, refuse)
    assert len(verifying.verified._entries) == 2
    counted.clear()
    await verifying.verify(tokens[0], refuse)  # the oldest went first: verified again
    await verifying.verify(tokens[2], refuse)
    assert len(counted) == 1
