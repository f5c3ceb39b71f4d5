"""Channel credentials shared by connect() and aio.connect()."""

from __future__ import annotations

from collections.abc import Callable

import grpc

TokenSource = Callable[[], str]


def token_source_of(token: str | None, token_source: TokenSource | None) -> TokenSource | None:
    if token is not None and token_source is not None:
        raise ValueError("give token or token_source, not both")
    if token is not None:
        return lambda: token
    return token_source


def bearer(token: str) -> tuple[str, str]:
    return ("authorization", f"Bearer {token}")


def ssl_credentials(
    tls: bool, root_certificates: bytes | None, certificate_chain: bytes | None, private_key: bytes | None
) -> grpc.ChannelCredentials | None:
    """TLS credentials, or None for plaintext. A custom CA or a client certificate implies TLS."""
    if (certificate_chain is None) != (private_key is None):
        raise ValueError("a client certificate needs both certificate_chain and private_key")
    if not (tls or root_certificates or certificate_chain):
        return None
    return grpc.ssl_channel_credentials(
        root_certificates=root_certificates, private_key=private_key, certificate_chain=certificate_chain
    )


class _BearerPlugin(grpc.AuthMetadataPlugin):
    def __init__(self, source: TokenSource) -> None:
        self._source = source

    def __call__(self, context: grpc.AuthMetadataContext, callback: grpc.AuthMetadataPluginCallback) -> None:
        try:
            token = self._source()
        except Exception as error:
            callback((), error)
            return
        callback((bearer(token),), None)


def bearer_call_credentials(source: TokenSource) -> grpc.CallCredentials:
    """`authorization: Bearer <token>` on every call, the token asked of `source` each time."""
    return grpc.metadata_call_credentials(_BearerPlugin(source), name="polysync-bearer")
