"""Real credentials made at test time: a CA with a server and a client certificate (trustme),
RSA signing keys with their JWKS, and JWTs good and bad, plus a server built with them."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import jwt
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from polysync.platform.v1 import platform_service_pb2_grpc
from polysync_batch.api.server import RunningServer, build_server
from polysync_batch.config import AccessConfig, CallerAuthConfig, CallerTokenConfig, JwtConfig, ServerConfig, TlsConfig
from polysync_batch.service.registry import PlatformRegistry

ISSUER = "https://login.example.test/tenant/v2.0"
AUDIENCE = "api://polysync-batch"
SCHEDULER_TOKEN = "scheduler-token-5f1c9e0b7a2d4c68"  # a static token's value (only its SHA-256 is configured)
READER_TOKEN = "reader-token-93be01d2c4a74f55"


def sha256_hex(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Pki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate with CN `client_cn`, as files."""

    ca: trustme.CA
    directory: Path
    client_cn: str = "reporter"

    @classmethod
    def make(cls, directory: Path, client_cn: str = "reporter") -> Pki:
        directory.mkdir(parents=True, exist_ok=True)
        pki = cls(trustme.CA(), directory, client_cn)
        pki.write_server(pki.ca)
        pki.ca.cert_pem.write_to_path(str(pki.ca_file))
        client = pki.ca.issue_cert(f"{client_cn}.clients.test", common_name=client_cn)
        client.private_key_pem.write_to_path(str(directory / "client.key"))
        client.cert_chain_pems[0].write_to_path(str(directory / "client.crt"))
        return pki

    def write_server(self, ca: trustme.CA) -> None:
        server = ca.issue_cert("127.0.0.1", "localhost")
        server.private_key_pem.write_to_path(str(self.key_file))
        (self.cert_file).write_bytes(b"".join(pem.bytes() for pem in server.cert_chain_pems))

    @property
    def cert_file(self) -> Path:
        return self.directory / "server.crt"

    @property
    def key_file(self) -> Path:
        return self.directory / "server.key"

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.crt"

    def tls(self, mutual: bool = False) -> TlsConfig:
        return TlsConfig(
            cert_file=self.cert_file, key_file=self.key_file, client_ca_file=self.ca_file if mutual else None
        )

    def channel_credentials(
        self, client_certificate: bool = False, ca: trustme.CA | None = None
    ) -> grpc.ChannelCredentials:
        root = (ca or self.ca).cert_pem.bytes()
        if not client_certificate:
            return grpc.ssl_channel_credentials(root)
        return grpc.ssl_channel_credentials(
            root, (self.directory / "client.key").read_bytes(), (self.directory / "client.crt").read_bytes()
        )


class Signer:
    """An RSA signing key with kid, and the JWTs it signs."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def token(self, sub: str = "jwt-caller", lifetime: float = 300, kid: str | None = None, **claims: object) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + lifetime, **claims}
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": kid or self.kid})


def write_jwks(path: Path, *signers: Signer) -> Path:
    path.write_text(json.dumps({"keys": [s.jwk() for s in signers]}))
    return path


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(claims: dict, alg: str = "none", kid: str = "k1", secret: bytes | None = None) -> str:
    """A token PyJWT would not make: alg=none, or HS256 "signed" with an RSA public key (the
    classic key-confusion attack)."""
    header = _b64(json.dumps({"alg": alg, "typ": "JWT", "kid": kid}).encode())
    body = _b64(json.dumps(claims).encode())
    signing_input = f"{header}.{body}".encode()
    signature = _b64(hmac.new(secret, signing_input, hashlib.sha256).digest()) if secret else ""
    return f"{header}.{body}.{signature}"


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def auth_config(jwks_file: Path | None = None, **jwt_settings: object) -> CallerAuthConfig:
    tokens = [
        CallerTokenConfig(caller="scheduler", sha256=sha256_hex(SCHEDULER_TOKEN)),
        CallerTokenConfig(caller="reader", sha256=sha256_hex(READER_TOKEN)),
    ]
    jwt_config = None
    if jwks_file is not None:
        jwt_config = JwtConfig(jwks_file=jwks_file, issuer=ISSUER, audience=AUDIENCE, **jwt_settings)
    return CallerAuthConfig(tokens=tokens, jwt=jwt_config)


@dataclass
class Secured:
    running: RunningServer
    channel: grpc.aio.Channel
    stub: platform_service_pb2_grpc.PlatformServiceStub
    target: str


@contextlib.asynccontextmanager
async def serve_secured(
    platforms: PlatformRegistry,
    pki: Pki,
    *,
    mutual: bool = False,
    auth: CallerAuthConfig | None = None,
    access: dict[str, AccessConfig] | None = None,
    client_certificate: bool = False,
    **settings: object,
) -> AsyncIterator[Secured]:
    server = ServerConfig(
        address="127.0.0.1:0",
        health_check_interval_seconds=0,
        tls=pki.tls(mutual),
        health_address="127.0.0.1:0",
        **settings,
    )
    running = await build_server(platforms, server, auth=auth, access=access)
    target = f"127.0.0.1:{running.port}"
    channel = grpc.aio.secure_channel(target, pki.channel_credentials(client_certificate))
    try:
        yield Secured(running, channel, platform_service_pb2_grpc.PlatformServiceStub(channel), target)
    finally:
        await channel.close()
        await running.stop(None)


def counting_jwks_keys(**settings: object):
    """A JwksKeys that counts its (re)loads in `.loads` (the production class keeps no such counter)."""
    from polysync_batch.security.jwks import JwksKeys

    class Counting(JwksKeys):
        loads = 0

        async def reload(self) -> bool:
            self.loads += 1
            return await super().reload()

    return Counting(**settings)
