"""Credentials per auth mode against moto's STS; nothing here reaches AWS."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import botocore.session
import pytest
from botocore import UNSIGNED
from moto import mock_aws
from moto.server import ThreadedMotoServer
from polysync_batch.aws.credentials import azure_token_loader, build_session
from polysync_batch.config import AuthConfig, ConfigError

REGION = "eu-west-1"
FEDERATED = "arn:aws:iam::111122223333:role/polysync-federated"
TARGET = "arn:aws:iam::111122223333:role/polysync-batch-target"
TARGET_SESSION_ARN = "arn:aws:sts::111122223333:assumed-role/polysync-batch-target/polysync-batch"
ENV_KEY_ID = "AKIAENVIRONMENTKEY01"


@dataclass
class StsCall:
    operation: str
    params: dict[str, Any]
    signed_with: str | None  # the access key id the STS client was created with
    unsigned: bool
    endpoint: str
    response: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(autouse=True)
def fake_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake default-chain credentials and no shared config, so nothing can reach real AWS."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ENV_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "environment-secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def moto() -> Iterator[None]:
    # Keep our fake environment credentials rather than moto's, to tell the sources apart.
    with mock_aws(config={"core": {"mock_credentials": False}}):
        yield


@pytest.fixture
def sts_calls(monkeypatch: pytest.MonkeyPatch) -> list[StsCall]:
    """Every STS call made by any client, in order, with how its client was created."""
    calls: list[StsCall] = []
    create_client = botocore.session.Session.create_client

    def recording_create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, service_name, *args, **kwargs)
        if service_name != "sts":
            return client
        config = kwargs.get("config")

        def before_send(request: Any, **_: Any) -> None:
            # Recorded as the request leaves (after signing, hence after any credential
            # refresh it triggered), so the list is in wire order.
            body = request.body
            params = dict(parse_qsl(body.decode() if isinstance(body, bytes) else body))
            calls.append(
                StsCall(
                    operation=params.pop("Action"),
                    params={k: v for k, v in params.items() if k != "Version"},
                    signed_with=kwargs.get("aws_access_key_id"),
                    unsigned=config is not None and config.signature_version is UNSIGNED,
                    endpoint=client.meta.endpoint_url,
                )
            )

        def after_call(parsed: dict[str, Any], **_: Any) -> None:
            calls[-1].response = parsed

        # First, so moto's own before-send handler (which answers the call) cannot skip ours.
        client.meta.events.register_first("before-send.sts.*", before_send)
        client.meta.events.register("after-call.sts.*", after_call)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", recording_create_client)
    return calls


def token_file(tmp_path: Path, token: str) -> Path:
    path = tmp_path / "token"
    path.write_text(token)
    return path


def web_identity(path: Path, **extra: Any) -> AuthConfig:
    return AuthConfig(mode="web_identity", role_arn=FEDERATED, token_file=path, **extra)


def caller_arn(auth: AuthConfig, environ: dict[str, str] | None = None) -> str:
    session = build_session(auth, region=REGION, endpoint_url=None, environ=environ or {})
    return session.client("sts").get_caller_identity()["Arn"]


def test_default_mode_uses_the_default_chain(moto: None) -> None:
    session = build_session(AuthConfig(), region=REGION, endpoint_url=None, environ={})

    assert session.region_name == REGION
    assert session.get_credentials().get_frozen_credentials().access_key == ENV_KEY_ID
    assert session.client("sts").get_caller_identity()["Arn"].endswith(":user/moto")


def test_access_keys_come_from_the_named_variables(moto: None) -> None:
    auth = AuthConfig(
        mode="access_keys",
        access_key_id_env="BATCH_KEY_ID",
        secret_access_key_env="BATCH_SECRET",
        session_token_env="BATCH_TOKEN",
    )
    environ = {"BATCH_KEY_ID": "AKIANAMEDVARIABLE001", "BATCH_SECRET": "s", "BATCH_TOKEN": "t"}

    session = build_session(auth, region=REGION, endpoint_url=None, environ=environ)

    frozen = session.get_credentials().get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == (
        "AKIANAMEDVARIABLE001",
        "s",
        "t",
    )
    assert session.client("sts").get_caller_identity()["Account"]


def test_access_keys_missing_variable_names_it_without_values() -> None:
    auth = AuthConfig(mode="access_keys", access_key_id_env="BATCH_KEY_ID", secret_access_key_env="BATCH_SECRET")

    with pytest.raises(ConfigError) as caught:
        build_session(auth, region=REGION, endpoint_url=None, environ={"BATCH_KEY_ID": "AKIASECRETVALUE00001"})

    message = str(caught.value)
    assert message == ("auth.secret_access_key_env: environment variable BATCH_SECRET is not set or empty")
    assert "AKIASECRETVALUE00001" not in message


def test_web_identity_from_token_file(moto: None, sts_calls: list[StsCall], tmp_path: Path) -> None:
    arn = caller_arn(web_identity(token_file(tmp_path, "token-a\n"), session_name="ci-run"))

    assert arn == "arn:aws:sts::111122223333:assumed-role/polysync-federated/ci-run"
    exchange = sts_calls[0]
    assert exchange.operation == "AssumeRoleWithWebIdentity"
    assert exchange.params == {
        "RoleArn": FEDERATED,
        "RoleSessionName": "ci-run",
        "WebIdentityToken": "token-a",
    }
    assert exchange.unsigned  # the token is the only proof; botocore sends the call unsigned


def test_token_file_is_reread_on_refresh(moto: None, sts_calls: list[StsCall], tmp_path: Path) -> None:
    path = token_file(tmp_path, "token-a")
    # 900 s credentials sit inside botocore's 15-minute advisory refresh window, so every use
    # refreshes them: the quickest honest way to reach the refresh path.
    session = build_session(web_identity(path, duration_seconds=900), region=REGION, endpoint_url=None, environ={})
    credentials = session.get_credentials()

    first = credentials.get_frozen_credentials()
    path.write_text("token-b")
    second = credentials.get_frozen_credentials()

    assert [c.params["WebIdentityToken"] for c in sts_calls] == ["token-a", "token-b"]
    assert all(c.params["DurationSeconds"] == "900" for c in sts_calls)
    assert first.access_key != second.access_key


def test_assume_role_from_the_default_chain(moto: None, sts_calls: list[StsCall]) -> None:
    auth = AuthConfig(mode="assume_role", role_arn=TARGET, external_id="polysync-ext", duration_seconds=3600)

    assert caller_arn(auth) == TARGET_SESSION_ARN
    assume = sts_calls[0]
    assert assume.operation == "AssumeRole"
    assert assume.params == {
        "RoleArn": TARGET,
        "RoleSessionName": "polysync-batch",
        "ExternalId": "polysync-ext",
        "DurationSeconds": "3600",
    }
    assert assume.signed_with == ENV_KEY_ID


def test_assume_role_chained_after_web_identity(moto: None, sts_calls: list[StsCall], tmp_path: Path) -> None:
    auth = AuthConfig(mode="assume_role", role_arn=TARGET, source=web_identity(token_file(tmp_path, "token-a")))

    arn = caller_arn(auth)

    assert arn == TARGET_SESSION_ARN
    assert [c.operation for c in sts_calls] == [
        "AssumeRoleWithWebIdentity",
        "AssumeRole",
        "GetCallerIdentity",
    ]
    exchange, assume, _ = sts_calls
    assert exchange.params["RoleArn"] == FEDERATED
    assert assume.params["RoleArn"] == TARGET
    # AssumeRole is signed with what the web identity exchange returned, not the environment.
    assert assume.signed_with == exchange.response["Credentials"]["AccessKeyId"]
    assert assume.signed_with != ENV_KEY_ID


def test_assume_role_with_access_keys_source(moto: None, sts_calls: list[StsCall]) -> None:
    auth = AuthConfig(
        mode="assume_role",
        role_arn=TARGET,
        source=AuthConfig(mode="access_keys", access_key_id_env="SRC_ID", secret_access_key_env="SRC_SECRET"),
    )

    caller_arn(auth, {"SRC_ID": "AKIASOURCEKEY0000001", "SRC_SECRET": "x"})

    assert sts_calls[0].operation == "AssumeRole"
    assert sts_calls[0].signed_with == "AKIASOURCEKEY0000001"


def test_missing_variable_in_a_source_names_its_path() -> None:
    auth = AuthConfig(
        mode="assume_role",
        role_arn=TARGET,
        source=AuthConfig(mode="access_keys", access_key_id_env="A", secret_access_key_env="B"),
    )

    with pytest.raises(ConfigError, match=r"^auth\.source\.access_key_id_env: .* A is not set"):
        build_session(auth, region=REGION, endpoint_url=None, environ={})


def test_no_default_chain_credentials_means_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    auth = AuthConfig(mode="assume_role", role_arn=TARGET)

    session = build_session(auth, region=REGION, endpoint_url=None, environ={})

    assert session.get_credentials() is None


def test_configured_session_never_falls_back_to_ambient_credentials(moto: None, tmp_path: Path) -> None:
    auth = web_identity(tmp_path / "not-yet-projected")
    session = build_session(auth, region=REGION, endpoint_url=None, environ={})

    with pytest.raises(FileNotFoundError):
        session.client("sts").get_caller_identity()


@pytest.fixture
def sts_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_sts_calls_honour_endpoint_url(sts_server: str, sts_calls: list[StsCall], tmp_path: Path) -> None:
    auth = AuthConfig(mode="assume_role", role_arn=TARGET, source=web_identity(token_file(tmp_path, "token-t")))
    session = build_session(auth, region=REGION, endpoint_url=sts_server, environ={})

    arn = session.client("sts", endpoint_url=sts_server).get_caller_identity()["Arn"]

    assert arn.endswith(":assumed-role/polysync-batch-target/polysync-batch")
    assert [(c.operation, c.endpoint) for c in sts_calls] == [
        ("AssumeRoleWithWebIdentity", sts_server),
        ("AssumeRole", sts_server),
        ("GetCallerIdentity", sts_server),
    ]


@pytest.fixture
def fake_azure_identity(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A stand-in `azure.identity` whose credential hands out one token per scope."""
    scopes: list[str] = []

    class DefaultAzureCredential:
        def get_token(self, scope: str) -> Any:
            scopes.append(scope)
            return types.SimpleNamespace(token=f"entra-token-for:{scope}", expires_on=0)

    azure = types.ModuleType("azure")
    identity = types.ModuleType("azure.identity")
    identity.DefaultAzureCredential = DefaultAzureCredential  # type: ignore[attr-defined]
    azure.identity = identity  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "azure", azure)
    monkeypatch.setitem(sys.modules, "azure.identity", identity)
    return scopes


SCOPE = "api://AzureADTokenExchange/.default"


def test_azure_token_loader_asks_for_the_scope(fake_azure_identity: list[str]) -> None:
    load = azure_token_loader(SCOPE)

    assert load() == f"entra-token-for:{SCOPE}"
    assert fake_azure_identity == [SCOPE]


def test_web_identity_from_azure(moto: None, sts_calls: list[StsCall], fake_azure_identity: list[str]) -> None:
    auth = AuthConfig(mode="web_identity", role_arn=FEDERATED, azure_scope=SCOPE)

    assert caller_arn(auth).endswith(":assumed-role/polysync-federated/polysync-batch")
    assert sts_calls[0].params["WebIdentityToken"] == f"entra-token-for:{SCOPE}"


def test_azure_without_azure_identity_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail whether or not the package is installed.
    monkeypatch.setitem(sys.modules, "azure.identity", None)
    auth = AuthConfig(
        mode="assume_role",
        role_arn=TARGET,
        source=AuthConfig(mode="web_identity", role_arn=FEDERATED, azure_scope=SCOPE),
    )

    with pytest.raises(ConfigError) as caught:
        build_session(auth, region=REGION, endpoint_url=None, environ={})

    assert str(caught.value) == (
        "auth.source.azure_scope: the azure-identity package is not installed; "
        "install the azure extra: pip install 'polysync-batch[azure]'"
    )
