"""TLS for the gRPC port (SPEC §8.1) with grpcio's dynamic server credentials, which work under
grpc.aio: grpc core asks `CertificateFiles.fetch` at every handshake (on one of its own threads,
not the event loop), and it re-reads the files only when one of them changed. A new certificate
is taken once it matches its key, so a rotation that writes the files one by one never serves a
broken pair; the old pair is kept meanwhile. TLS 1.2 is grpc core's minimum."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from polysync_batch.config import ConfigError, TlsConfig

log = logging.getLogger(__name__)


class CertificateError(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"server.tls.{key}: {message}")


def _read(path: Path, key: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CertificateError(key, f"cannot read {path}: {error.strerror}") from None


def load_pair(tls: TlsConfig) -> grpc.ServerCertificateConfiguration:
    chain, key = _read(tls.cert_file, "cert_file"), _read(tls.key_file, "key_file")
    try:
        leaf = x509.load_pem_x509_certificates(chain)[0]
    except ValueError:
        raise CertificateError("cert_file", "not a PEM certificate chain") from None
    try:
        private = serialization.load_pem_private_key(key, password=None)
    except (ValueError, TypeError):
        raise CertificateError("key_file", "not an unencrypted PEM private key") from None
    spki = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    if leaf.public_key().public_bytes(*spki) != private.public_key().public_bytes(*spki):
        raise CertificateError("key_file", "does not match the first certificate of cert_file")
    roots = None
    if tls.client_ca_file is not None:
        roots = _read(tls.client_ca_file, "client_ca_file")
        try:
            x509.load_pem_x509_certificates(roots)
        except ValueError:
            raise CertificateError("client_ca_file", "not a PEM certificate bundle") from None
    return grpc.ssl_server_certificate_configuration([(key, chain)], root_certificates=roots)


class CertificateFiles:
    def __init__(self, tls: TlsConfig) -> None:
        self._tls = tls
        self._lock = threading.Lock()
        self._seen = self._signature()
        try:
            self._initial = load_pair(tls)
        except CertificateError as error:
            raise ConfigError(str(error)) from None
        self.reloads = 0

    def _paths(self) -> list[Path]:
        return [p for p in (self._tls.cert_file, self._tls.key_file, self._tls.client_ca_file) if p is not None]

    def _signature(self) -> tuple:
        found = []
        for path in self._paths():
            try:
                stat = os.stat(path)  # follows symlinks: Kubernetes swaps a ..data symlink
                found.append((stat.st_ino, stat.st_mtime_ns, stat.st_size))
            except OSError:
                found.append(None)
        return tuple(found)

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """Called by grpc core before each handshake: a new configuration, or None to keep the
        current one. Never raises (grpc would fail the handshake)."""
        try:
            with self._lock:
                signature = self._signature()
                if signature == self._seen:
                    return None
                self._seen = signature
                configuration = load_pair(self._tls)
                self.reloads += 1
            log.info("TLS certificate files changed: reloaded %s", self._tls.cert_file)
            return configuration
        except CertificateError as error:
            log.warning("TLS certificate files changed but were not taken (keeping the previous ones): %s", error)
        except Exception:
            log.exception("TLS certificate reload failed (keeping the previous ones)")
        return None

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.dynamic_ssl_server_credentials(
            self._initial, self.fetch, require_client_authentication=self._tls.client_ca_file is not None
        )
