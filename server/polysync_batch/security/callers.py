"""Who is calling: a presented bearer token is checked first (a static token by its SHA-256,
else a JWT), and without one a verified client certificate's CN names the caller. Every failure
is CALLER_UNAUTHENTICATED with a message saying what was wrong, never the token itself."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from polysync_batch.config import CallerAuthConfig, ConfigError, JwtConfig
from polysync_batch.domain import errors
from polysync_batch.security.jwks import JwksKeys


@dataclass(frozen=True)
class Certificate:
    """A verified client certificate, as the TLS handshake presented it."""

    cn: str  # its subject common name; "" if it has none
    expires_at: float | None  # notAfter, epoch seconds


@dataclass(frozen=True)
class Caller:
    name: str
    via: str  # "token", "jwt" or "certificate"
    expires_at: float | None = None  # epoch seconds after which the credential is no longer accepted


def token_digest(token: str) -> bytes:
    """SHA-256 of a bearer token: how static tokens are configured, and how verified JWTs are kept."""
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class _Verified:
    caller: Caller
    kid: str | None
    key: jwt.PyJWK


class VerifiedTokens:
    """JWTs already verified, by their SHA-256, until they expire or their key leaves the JWKS: a
    caller that sends the same token on every call pays for one signature check, not one per call.
    Bounded: the oldest entries go first."""

    def __init__(self, keys: JwksKeys, capacity: int = 4096, clock: Callable[[], float] = time.time) -> None:
        self._keys = keys
        self._capacity = capacity
        self._clock = clock
        self._entries: dict[bytes, _Verified] = {}

    def get(self, digest: bytes) -> Caller | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry.caller.expires_at <= self._clock() or self._keys.loaded(entry.kid) is not entry.key:
            del self._entries[digest]  # expired, or signed by a key that was rotated away
            return None
        return entry.caller

    def put(self, digest: bytes, caller: Caller, kid: str | None, key: jwt.PyJWK) -> None:
        if len(self._entries) >= self._capacity:
            del self._entries[next(iter(self._entries))]
        self._entries[digest] = _Verified(caller, kid, key)


class JwtVerifier:
    def __init__(self, config: JwtConfig, keys: JwksKeys | None = None, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.keys = keys or JwksKeys(
            file=config.jwks_file, url=config.jwks_url, refresh_seconds=config.jwks_refresh_seconds
        )
        self.verified = VerifiedTokens(self.keys, clock=clock)

    async def verify(self, token: str, refuse, digest: bytes | None = None) -> Caller:
        """The caller `token` names, or `refuse(what)` raised; `digest` is its SHA-256, if known."""
        digest = digest or token_digest(token)
        if (caller := self.verified.get(digest)) is not None:
            return caller
        kid, key, caller = await self._verify(token, refuse)
        self.verified.put(digest, caller, kid, key)
        return caller

    async def _verify(self, token: str, refuse) -> tuple[str | None, jwt.PyJWK, Caller]:
        config = self.config
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise refuse("the bearer token is malformed (not a JWT)") from None
        algorithm = header.get("alg")
        if algorithm not in config.algorithms:
            shown = algorithm if isinstance(algorithm, str) and algorithm.isalnum() and len(algorithm) <= 10 else "?"
            raise refuse(f"the token's algorithm {shown!r} is not accepted (accepted: {', '.join(config.algorithms)})")
        kid = header.get("kid") if isinstance(header.get("kid"), str) else None
        key = await self.keys.key(kid)
        if key is None:
            raise refuse("the token is signed with an unknown key (its kid is not in the JWKS)")
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[algorithm],
                audience=config.audience,
                issuer=config.issuer,
                leeway=config.leeway_seconds,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise refuse("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise refuse("the token is not valid yet (nbf or iat is in the future)") from None
        except jwt.InvalidIssuerError:
            raise refuse("the token has the wrong issuer") from None
        except jwt.InvalidAudienceError:
            raise refuse("the token has the wrong audience") from None
        except jwt.MissingRequiredClaimError as error:
            raise refuse(f"the token has no {error.claim!r} claim") from None
        except jwt.InvalidSignatureError:
            raise refuse("the token's signature is bad") from None
        except (jwt.InvalidAlgorithmError, jwt.InvalidKeyError, jwt.PyJWKError):
            raise refuse("the token's algorithm does not match its key") from None
        except jwt.DecodeError:
            raise refuse("the bearer token is malformed") from None
        except jwt.InvalidTokenError:
            raise refuse("the token is invalid") from None
        name = claims.get(config.caller_claim)
        if not isinstance(name, str) or not name:
            raise refuse(f"the token has no {config.caller_claim!r} claim naming the caller")
        return kid, key, Caller(name, "jwt", float(claims["exp"]) + config.leeway_seconds)


class Authenticator:
    def __init__(
        self, config: CallerAuthConfig, *, certificates: bool, jwt_verifier: JwtVerifier | None = None
    ) -> None:
        self._tokens = [(bytes.fromhex(entry.sha256), entry.caller) for entry in config.tokens]
        self._certificates = certificates
        self.jwt = jwt_verifier or (JwtVerifier(config.jwt) if config.jwt is not None else None)

    @property
    def enabled(self) -> bool:
        return bool(self._tokens or self.jwt or self._certificates)

    async def start(self) -> None:
        """Load the JWT keys. A JWKS file that cannot be used stops start-up; an unreachable
        jwks_url does not (the IdP may be briefly down): the first call with a JWT retries."""
        if self.jwt is not None and not await self.jwt.keys.reload() and self.jwt.keys.from_file:
            raise ConfigError(
                f"auth.jwt.jwks_file: cannot load the signing keys from {self.jwt.keys.source}: "
                f"{self.jwt.keys.last_error}"
            )

    def _refuse(self, what: str) -> errors.Unauthenticated:
        return errors.caller_unauthenticated(what, certificates=self._certificates)

    def _static(self, digest: bytes) -> str | None:
        found = None
        for sha256, caller in self._tokens:  # every entry is compared, in constant time each
            if hmac.compare_digest(digest, sha256):
                found = caller
        return found

    async def identify(self, authorization: str | None, certificate: Certificate | None = None) -> Caller:
        """The caller of a call that carried `authorization` metadata and, with mutual TLS, a
        verified client certificate."""
        if authorization is None:
            if certificate is not None and certificate.cn:
                if certificate.expires_at is not None and certificate.expires_at <= time.time():
                    # the handshake checked it, but a connection outlives its certificate
                    raise self._refuse("the client certificate has expired; reconnect with a renewed one")
                return Caller(certificate.cn, "certificate", certificate.expires_at)
            if self._certificates and certificate is not None:
                raise self._refuse("the client certificate has no subject common name (CN)")
            raise self._refuse("no credentials: the call has no 'authorization' metadata")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise self._refuse("the 'authorization' metadata is malformed (expected 'Bearer <token>')")
        digest = token_digest(token)  # once: the static tokens' key, and the verified JWTs'
        if (caller := self._static(digest)) is not None:
            return Caller(caller, "token")
        if self.jwt is not None and token.count(".") == 2:
            return await self.jwt.verify(token, self._refuse, digest)
        raise self._refuse(
            "the bearer token is not one this server accepts"
            if self.jwt is None
            else "the bearer token is neither a known token nor a JWT"
        )
