"""A boto3 session per platform whose credentials match its `auth` and refresh themselves.

Only botocore's own machinery is used: its STS credential fetchers cache each response, and
`DeferredRefreshableCredentials` fetches again on the first AWS call inside the refresh window
before expiry, so a watch lasting hours survives expiry without timers of ours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import boto3
import botocore.session
from botocore.client import BaseClient
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    AssumeRoleWithWebIdentityCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    Credentials,
    DeferredRefreshableCredentials,
)
from botocore.utils import FileWebIdentityTokenLoader

from polysync_batch.config import AuthConfig, ConfigError

_ClientCreator = Callable[..., BaseClient]
TokenLoader = Callable[[], str]
# Resolves credentials on the first client creation; None means "none found", as in botocore.
_CredentialsLoader = Callable[[], Credentials | None]


def build_session(
    auth: AuthConfig, *, region: str, endpoint_url: str | None, environ: Mapping[str, str]
) -> boto3.Session:
    """A session for one platform. Everything checkable without AWS (environment variables,
    optional packages) is checked now and raises `ConfigError`; STS is first called when a
    client makes its first request."""
    if auth.mode == "default":
        return boto3.Session(region_name=region)
    load = _loader(auth, _sts_client_creator(region, endpoint_url), environ, "auth")
    botocore_session = botocore.session.Session()
    # A resolver holding only our provider: a configured platform never falls back to whatever
    # ambient credentials the host happens to have.
    botocore_session.register_component("credential_provider", CredentialResolver([_ConfiguredProvider(load)]))
    return boto3.Session(botocore_session=botocore_session, region_name=region)


def azure_token_loader(scope: str) -> TokenLoader:
    """Web identity tokens from azure-identity's `DefaultAzureCredential` (an optional extra).
    The credential caches tokens and renews them itself, so each call is cheap."""
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise ConfigError(
            "the azure-identity package is not installed; install the azure extra: pip install 'polysync-batch[azure]'"
        ) from None
    credential = DefaultAzureCredential()
    return lambda: credential.get_token(scope).token


class _ConfiguredProvider(CredentialProvider):
    METHOD = "polysync-batch"
    # botocore asks custom providers to prefix their canonical name with "custom".
    CANONICAL_NAME = "custom-polysync-batch"

    def __init__(self, load: _CredentialsLoader) -> None:
        super().__init__()
        self._load = load

    def load(self) -> Credentials | None:
        return self._load()


def _sts_client_creator(region: str, endpoint_url: str | None) -> _ClientCreator:
    """What botocore's fetchers call to make their STS client: the platform's region and
    emulator endpoint, credentials or `signature_version=UNSIGNED` as the fetcher passes."""
    session = botocore.session.Session()

    def create_client(service_name: str, **kwargs: Any) -> BaseClient:
        return session.create_client(service_name, region_name=region, endpoint_url=endpoint_url, **kwargs)

    return create_client


def _loader(auth: AuthConfig, sts: _ClientCreator, environ: Mapping[str, str], key: str) -> _CredentialsLoader:
    if auth.mode == "default":
        return lambda: botocore.session.Session().get_credentials()
    if auth.mode == "access_keys":
        assert auth.access_key_id_env is not None and auth.secret_access_key_env is not None
        static = Credentials(
            _from_env(environ, auth.access_key_id_env, f"{key}.access_key_id_env"),
            _from_env(environ, auth.secret_access_key_env, f"{key}.secret_access_key_env"),
            None
            if auth.session_token_env is None
            else _from_env(environ, auth.session_token_env, f"{key}.session_token_env"),
            method="polysync-access-keys",
        )
        return lambda: static

    assert auth.role_arn is not None
    extra_args: dict[str, Any] = {"RoleSessionName": auth.session_name}
    if auth.duration_seconds is not None:
        extra_args["DurationSeconds"] = auth.duration_seconds

    if auth.mode == "web_identity":
        token_loader = _token_loader(auth, key)
        web_identity = AssumeRoleWithWebIdentityCredentialFetcher(
            sts, token_loader, auth.role_arn, extra_args=extra_args
        )
        refreshable = DeferredRefreshableCredentials(web_identity.fetch_credentials, "assume-role-with-web-identity")
        return lambda: refreshable

    if auth.external_id is not None:
        extra_args["ExternalId"] = auth.external_id
    load_source = _loader(auth.source or AuthConfig(), sts, environ, f"{key}.source")
    role_arn = auth.role_arn

    def load() -> Credentials | None:
        source = load_source()
        if source is None:
            return None
        assume_role = AssumeRoleCredentialFetcher(sts, source, role_arn, extra_args=extra_args)
        return DeferredRefreshableCredentials(assume_role.fetch_credentials, "assume-role")

    return load


def _token_loader(auth: AuthConfig, key: str) -> TokenLoader:
    if auth.azure_scope is not None:
        try:
            return azure_token_loader(auth.azure_scope)
        except ConfigError as exc:
            raise ConfigError(f"{key}.azure_scope: {exc}") from None
    assert auth.token_file is not None
    # Re-read on every refresh: Kubernetes and Azure workload identity rotate the file. The
    # strip forgives a trailing newline from hand-written files; JWTs contain no whitespace.
    read_file = FileWebIdentityTokenLoader(str(auth.token_file))
    return lambda: read_file().strip()


def _from_env(environ: Mapping[str, str], name: str, key: str) -> str:
    value = environ.get(name)
    if not value:
        raise ConfigError(f"{key}: environment variable {name} is not set or empty")
    return value
