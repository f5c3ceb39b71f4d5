"""The settings object: file shape, defaults, environment overrides, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pydantic
import pytest
from polysync_batch.config import Config, ConfigError, load_config

SPEC_EXAMPLE = """
default_platform = "prod"            # used when a request's platform is empty

[platforms.prod]
region = "eu-west-1"
default_job_queue = "polysync-prod"  # name or ARN

[platforms.prod.auth]
mode = "assume_role"
role_arn = "arn:aws:iam::111122223333:role/polysync-batch-target"
[platforms.prod.auth.source]
mode = "web_identity"
role_arn = "arn:aws:iam::111122223333:role/polysync-federated"
token_file = "/var/run/secrets/tokens/polysync"
"""

MINIMAL = """
[platforms.prod]
region = "eu-west-1"
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "polysync-batch.toml"
    path.write_text(text)
    return str(path)


def config_error(path: str | None, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ or {})
    message = str(caught.value)
    assert "\n" not in message
    assert "Traceback" not in message
    return message


def test_spec_example_parses(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, SPEC_EXAMPLE), {})

    assert config.default_platform_name == "prod"
    prod = config.platforms["prod"]
    assert prod.region == "eu-west-1"
    assert prod.default_job_queue == "polysync-prod"
    assert prod.auth.mode == "assume_role"
    assert prod.auth.role_arn == "arn:aws:iam::111122223333:role/polysync-batch-target"
    source = prod.auth.source
    assert source is not None
    assert source.mode == "web_identity"
    assert source.role_arn == "arn:aws:iam::111122223333:role/polysync-federated"
    assert source.token_file == Path("/var/run/secrets/tokens/polysync")
    assert source.source is None


def test_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL), {})

    prod = config.platforms["prod"]
    assert prod.default_job_queue is None
    assert prod.endpoint_url is None
    assert prod.console_domain is None
    assert prod.auth.mode == "default"
    assert prod.auth.session_name == "polysync-batch"
    assert (prod.retry_mode, prod.max_attempts) == ("standard", 5)
    assert (prod.connect_timeout_seconds, prod.read_timeout_seconds) == (5, 30)
    assert config.server.address == "127.0.0.1:50051"
    assert config.server.reflection is True
    assert config.server.shutdown_grace_seconds == 10
    assert config.server.max_message_bytes == 4 * 1024 * 1024
    assert config.watch.poll_interval_seconds == 5.0
    assert config.watch.runnable_warning_seconds == 600


def test_single_platform_is_the_default(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL), {})

    assert config.default_platform is None
    assert config.default_platform_name == "prod"


def test_no_file_means_no_platforms() -> None:
    config = load_config(None, {})

    assert config.platforms == {}
    assert config.default_platform_name is None


def test_path_from_environment(tmp_path: Path) -> None:
    config = load_config(None, {"POLYSYNC_BATCH_CONFIG": write(tmp_path, MINIMAL)})

    assert list(config.platforms) == ["prod"]


def test_argument_beats_environment_path(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL), {"POLYSYNC_BATCH_CONFIG": "/nonexistent.toml"})

    assert list(config.platforms) == ["prod"]


def test_config_is_frozen() -> None:
    config = load_config(None, {})

    with pytest.raises(pydantic.ValidationError):
        config.server.address = "0.0.0.0:1"  # type: ignore[misc]


def test_every_auth_mode_validates() -> None:
    config = Config.model_validate(
        {
            "default_platform": "a",
            "platforms": {
                "a": {"region": "us-gov-west-1", "auth": {"mode": "default"}},
                "b": {
                    "region": "cn-north-1",
                    "auth": {
                        "mode": "web_identity",
                        "role_arn": "arn:aws-cn:iam::111122223333:role/path/to/fed",
                        "azure_scope": "api://AzureADTokenExchange/.default",
                        "duration_seconds": 3600,
                    },
                },
                "c": {
                    "region": "eu-west-1",
                    "auth": {
                        "mode": "assume_role",
                        "role_arn": "arn:aws:iam::111122223333:role/target",
                        "external_id": "polysync",
                        "source": {
                            "mode": "assume_role",
                            "role_arn": "arn:aws:iam::111122223333:role/hop",
                            "source": {
                                "mode": "access_keys",
                                "access_key_id_env": "KEY_ID",
                                "secret_access_key_env": "SECRET",
                            },
                        },
                    },
                },
            },
        }
    )

    assert [p.auth.mode for p in config.platforms.values()] == [
        "default",
        "web_identity",
        "assume_role",
    ]


PROD = '[platforms.prod]\nregion = "eu-west-1"\n'
WEB_IDENTITY = PROD + '[platforms.prod.auth]\nmode = "web_identity"\n'
ROLE = '"arn:aws:iam::111122223333:role/r"'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(PROD + 'regoin = "eu-west-1"\n', "platforms.prod.regoin: unknown key", id="unknown-key"),
        pytest.param("[platforms.prod]\n", "platforms.prod.region: required", id="missing-region"),
        pytest.param(
            '[platforms.prod]\nregion = "Ireland"\n',
            "platforms.prod.region: not an AWS region name",
            id="bad-region",
        ),
        pytest.param(
            WEB_IDENTITY + 'token_file = "/t"\n',
            'platforms.prod.auth.role_arn: required when mode is "web_identity"',
            id="web-identity-without-role",
        ),
        pytest.param(
            WEB_IDENTITY + f'role_arn = {ROLE}\ntoken_file = "/t"\nazure_scope = "api://x/.default"\n',
            "platforms.prod.auth.azure_scope: set either token_file or azure_scope, not both",
            id="token-file-and-azure-scope",
        ),
        pytest.param(
            WEB_IDENTITY + f"role_arn = {ROLE}\n",
            "platforms.prod.auth.token_file: required",
            id="web-identity-without-token-source",
        ),
        pytest.param(
            PROD + '[platforms.prod.auth]\ntoken_file = "/t"\n',
            'platforms.prod.auth.token_file: not valid when mode is "default" (only for mode "web_identity")',
            id="field-not-valid-for-mode",
        ),
        pytest.param(
            PROD + f'[platforms.prod.auth]\nmode = "web_identity"\nrole_arn = {ROLE}\n'
            'token_file = "/t"\nexternal_id = "abc"\n',
            'platforms.prod.auth.external_id: not valid when mode is "web_identity" (only for mode "assume_role")',
            id="external-id-with-web-identity",
        ),
        pytest.param(
            PROD + '[platforms.prod.auth]\nmode = "assume_role"\nrole_arn = "arn:aws:iam::1:role/r"\n',
            "platforms.prod.auth.role_arn: not an IAM role ARN",
            id="bad-role-arn",
        ),
        pytest.param(
            PROD + f'[platforms.prod.auth]\nmode = "assume_role"\nrole_arn = {ROLE}\n'
            '[platforms.prod.auth.source]\nmode = "web_identity"\ntoken_file = "/t"\n',
            'platforms.prod.auth.source.role_arn: required when mode is "web_identity"',
            id="nested-source-error",
        ),
        pytest.param(
            PROD + f'[platforms.prod.auth]\nmode = "assume_role"\nrole_arn = {ROLE}\n'
            f'[platforms.prod.auth.source]\nmode = "assume_role"\nrole_arn = {ROLE}\n'
            f'[platforms.prod.auth.source.source]\nmode = "assume_role"\nrole_arn = {ROLE}\n'
            "[platforms.prod.auth.source.source.source]\n",
            "platforms.prod.auth.source: at most 2 nested sources",
            id="source-too-deep",
        ),
        pytest.param(
            PROD + f'[platforms.prod.auth]\nmode = "assume_role"\nrole_arn = {ROLE}\n'
            "duration_seconds = 7200\n"
            f'[platforms.prod.auth.source]\nmode = "web_identity"\nrole_arn = {ROLE}\n'
            'token_file = "/t"\n',
            "platforms.prod.auth.duration_seconds: at most 3600 when the source is itself a role",
            id="chained-duration-over-an-hour",
        ),
        pytest.param(
            PROD + '[platforms.prod.auth]\nmode = "access_keys"\nsecret_access_key_env = "S"\n',
            'platforms.prod.auth.access_key_id_env: required when mode is "access_keys"',
            id="access-keys-without-key-id",
        ),
        pytest.param(
            PROD + '[platforms.prod.auth]\nmode = "sso"\n',
            "platforms.prod.auth.mode: Input should be 'default', 'web_identity'",
            id="unknown-mode",
        ),
        pytest.param(
            'default_platform = "staging"\n' + PROD,
            'default_platform: "staging" is not a configured platform (configured: prod)',
            id="default-platform-not-configured",
        ),
        pytest.param(
            PROD + '[platforms.dev]\nregion = "eu-west-1"\n',
            "default_platform: required when more than one platform is configured",
            id="two-platforms-no-default",
        ),
        pytest.param(
            '[platforms.Prod]\nregion = "eu-west-1"\n',
            "platforms.Prod: platform names are lower-case",
            id="bad-platform-name",
        ),
        pytest.param(
            '[server]\naddress = "localhost"\n',
            "server.address: must be HOST:PORT",
            id="bad-address",
        ),
        pytest.param(
            PROD + 'endpoint_url = "127.0.0.1:5000"\n',
            "platforms.prod.endpoint_url: must be an http:// or https:// URL",
            id="bad-endpoint-url",
        ),
        pytest.param(
            PROD + "max_attempts = 0\n",
            "platforms.prod.max_attempts: Input should be greater than or equal to 1",
            id="max-attempts-out-of-range",
        ),
        pytest.param(
            "[watch]\npoll_interval_seconds = 0\n",
            "watch.poll_interval_seconds: Input should be greater than 0",
            id="poll-interval-not-positive",
        ),
        pytest.param(
            'default_platform = "prod"\n[platforms.prod]\nregion = \n',
            "TOML syntax error at line 3, column 10: Invalid value",
            id="toml-syntax",
        ),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)

    assert config_error(path).startswith(f"config {path}: {expected}")


def test_missing_file() -> None:
    assert config_error("/nonexistent/polysync.toml") == ("config /nonexistent/polysync.toml: file not found")


def test_counts_the_other_errors(tmp_path: Path) -> None:
    path = write(tmp_path, '[platforms.prod]\nregoin = "x"\n[server]\naddress = "x"\n')

    message = config_error(path)

    assert message.startswith(f"config {path}: platforms.prod.region: required")
    assert message.endswith("(and 2 more errors)")


def test_secret_in_the_file_is_not_echoed(tmp_path: Path) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    path = write(
        tmp_path,
        PROD + '[platforms.prod.auth]\nmode = "access_keys"\naccess_key_id_env = "ID"\n'
        f'secret_access_key_env = "{secret}"\n',
    )

    message = config_error(path)

    assert "auth.secret_access_key_env: must be the name of an environment variable" in message
    assert secret not in message


def test_env_overrides_nested_keys_with_coercion() -> None:
    config = load_config(
        None,
        {
            "POLYSYNC_BATCH_DEFAULT_PLATFORM": "prod",
            "POLYSYNC_BATCH_PLATFORMS__PROD__REGION": "eu-west-1",
            "POLYSYNC_BATCH_PLATFORMS__PROD__MAX_ATTEMPTS": "7",
            "POLYSYNC_BATCH_PLATFORMS__PROD__AUTH__MODE": "web_identity",
            "POLYSYNC_BATCH_PLATFORMS__PROD__AUTH__ROLE_ARN": "arn:aws:iam::111122223333:role/f",
            "POLYSYNC_BATCH_PLATFORMS__PROD__AUTH__TOKEN_FILE": "/var/run/token",
            "POLYSYNC_BATCH_SERVER__ADDRESS": "0.0.0.0:6000",
            "POLYSYNC_BATCH_SERVER__ALLOW_INSECURE": "true",
            "POLYSYNC_BATCH_SERVER__REFLECTION": "false",
            "POLYSYNC_BATCH_WATCH__POLL_INTERVAL_SECONDS": "2",
            "POLYSYNC_BATCH_CONFIG": "",
            "AWS_REGION": "us-east-1",
        },
    )

    prod = config.platforms["prod"]
    assert config.default_platform == "prod"
    assert prod.region == "eu-west-1"
    assert prod.max_attempts == 7
    assert prod.auth.mode == "web_identity"
    assert prod.auth.token_file == Path("/var/run/token")
    assert config.server.address == "0.0.0.0:6000"
    assert config.server.reflection is False
    assert config.watch.poll_interval_seconds == 2.0


def test_env_beats_file(tmp_path: Path) -> None:
    path = write(tmp_path, SPEC_EXAMPLE + "[watch]\npoll_interval_seconds = 10\n")

    config = load_config(
        path,
        {
            "POLYSYNC_BATCH_PLATFORMS__PROD__REGION": "us-gov-west-1",
            "POLYSYNC_BATCH_PLATFORMS__PROD__AUTH__SOURCE__TOKEN_FILE": "/elsewhere",
            "POLYSYNC_BATCH_WATCH__POLL_INTERVAL_SECONDS": "0.5",
        },
    )

    prod = config.platforms["prod"]
    assert prod.region == "us-gov-west-1"
    assert prod.default_job_queue == "polysync-prod"  # untouched keys survive the merge
    assert prod.auth.source is not None
    assert prod.auth.source.token_file == Path("/elsewhere")
    assert config.watch.poll_interval_seconds == 0.5


def test_env_errors_name_the_variable(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)

    assert config_error(path, {"POLYSYNC_BATCH_WATCH__POLL_INTERVAL_SECONDS": "soon"}) == (
        f"config {path}: watch.poll_interval_seconds: Input should be a valid number, unable to "
        "parse string as a number (from POLYSYNC_BATCH_WATCH__POLL_INTERVAL_SECONDS)"
    )
    assert config_error(path, {"POLYSYNC_BATCH_SEVRER__ADDRESS": "x:1"}) == (
        f"config {path}: sevrer: unknown key (from POLYSYNC_BATCH_SEVRER__ADDRESS)"
    )


def test_env_cannot_replace_a_table_with_a_value(tmp_path: Path) -> None:
    message = config_error(write(tmp_path, MINIMAL), {"POLYSYNC_BATCH_PLATFORMS__PROD": "x"})

    assert message.endswith("POLYSYNC_BATCH_PLATFORMS__PROD: platforms.prod is a table; set its keys")


def test_metrics_and_tracing_are_off_by_default_and_name_their_keys(tmp_path: Path) -> None:
    config = load_config(None, {})
    assert config.metrics.address is None and config.tracing.endpoint is None
    on = load_config(None, {"POLYSYNC_BATCH_METRICS__ADDRESS": "0.0.0.0:9464"})
    assert on.metrics.address == "0.0.0.0:9464"
    message = config_error(write(tmp_path, '[metrics]\naddress = "9464"\n'))
    assert message.startswith("config ") and "metrics.address: must be HOST:PORT" in message
    message = config_error(write(tmp_path, '[tracing]\nendpoint = "collector:4317"\n'))
    assert "tracing.endpoint: must be an http:// or https:// URL" in message


def test_events_table_defaults_and_a_bad_queue_url_named(tmp_path):
    config = load_config(
        write(
            tmp_path,
            MINIMAL
            + """
[platforms.prod.events]
sqs_queue_url = "https://sqs.eu-west-1.amazonaws.com/111122223333/polysync-batch-events"
""",
        ),
        {},
    )
    events = config.platforms["prod"].events
    assert (events.reconcile_interval_seconds, events.wait_time_seconds, events.create) == (60.0, 20, False)
    assert (events.account_id, events.queue_name) == ("111122223333", "polysync-batch-events")
    assert load_config(write(tmp_path, MINIMAL), {}).platforms["prod"].events is None
    message = config_error(
        write(
            tmp_path,
            MINIMAL
            + """
[platforms.prod.events]
sqs_queue_url = "polysync-batch-events"
""",
        )
    )
    assert "platforms.prod.events.sqs_queue_url: " in message and "SQS queue URL" in message
    message = config_error(
        write(
            tmp_path,
            MINIMAL
            + """
[platforms.prod.events]
sqs_queue_url = "https://sqs.eu-west-1.amazonaws.com/111122223333/q"
wait_time_seconds = 30
""",
        )
    )
    assert "platforms.prod.events.wait_time_seconds" in message


# --- SPEC §8.1/§8.2: transport security and caller auth ------------------------------------

_TOKEN = {"caller": "scheduler", "sha256": "a" * 64}


@pytest.mark.parametrize("address", ["0.0.0.0:50051", "[::]:50051", "10.0.0.7:50051", "polysync.internal:50051"])
def test_an_open_address_without_tls_or_caller_auth_is_refused_in_one_line(address: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(None, {"POLYSYNC_BATCH_SERVER__ADDRESS": address})
    message = str(raised.value)
    assert "server.address" in message and "server.allow_insecure" in message and "\n" not in message


@pytest.mark.parametrize(
    "extra",
    [
        {"POLYSYNC_BATCH_SERVER__ALLOW_INSECURE": "true"},
        {
            "POLYSYNC_BATCH_SERVER__TLS__CERT_FILE": "/tls/tls.crt",
            "POLYSYNC_BATCH_SERVER__TLS__KEY_FILE": "/tls/tls.key",
        },
    ],
)
def test_an_open_address_is_allowed_with_tls_or_allow_insecure(extra: dict) -> None:
    config = load_config(None, {"POLYSYNC_BATCH_SERVER__ADDRESS": "0.0.0.0:50051", **extra})
    assert config.server.address == "0.0.0.0:50051"


def test_an_open_address_is_allowed_with_caller_tokens() -> None:
    config = Config.model_validate({"server": {"address": "0.0.0.0:1"}, "auth": {"tokens": [_TOKEN]}})
    assert config.callers_authenticated


@pytest.mark.parametrize("address", ["127.0.0.1:50051", "[::1]:50051", "localhost:50051", "127.0.0.1:0"])
def test_loopback_needs_nothing(address: str) -> None:
    assert load_config(None, {"POLYSYNC_BATCH_SERVER__ADDRESS": address}).server.address == address


@pytest.mark.parametrize(
    "jwt,key,says",
    [
        (
            {"jwks_file": "/k.json", "issuer": "i", "audience": "a", "algorithms": ["HS256"]},
            "auth.jwt.algorithms",
            "asymmetric only",
        ),
        (
            {"jwks_file": "/k.json", "issuer": "i", "audience": "a", "algorithms": ["none"]},
            "auth.jwt.algorithms",
            "asymmetric only",
        ),
        ({"issuer": "i", "audience": "a"}, "auth.jwt.jwks_file", "exactly one of jwks_file and jwks_url"),
        ({"jwks_file": "/k.json", "audience": "a"}, "auth.jwt.issuer", "required"),
        (
            {"jwks_file": "/k.json", "issuer": "i", "audience": "a", "leeway_seconds": 300},
            "auth.jwt.leeway_seconds",
            "60",
        ),
    ],
)
def test_jwt_settings_are_checked(tmp_path: Path, jwt: dict, key: str, says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        with_file = tmp_path / "c.toml"
        lines = "\n".join(f"{k} = {json.dumps(v)}" for k, v in jwt.items())
        with_file.write_text(f"[auth.jwt]\n{lines}\n")
        load_config(str(with_file), {})
    assert f": {key}: " in str(raised.value) and says in str(raised.value)


def test_a_token_is_configured_by_its_sha256_only() -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(None, {"POLYSYNC_BATCH_AUTH__TOKENS": "x"})
    assert "auth.tokens" in str(raised.value)
    with pytest.raises(pydantic.ValidationError):
        Config.model_validate({"auth": {"tokens": [{"caller": "s", "sha256": "the-token-itself"}]}})


def test_access_tables_need_caller_authentication() -> None:
    with pytest.raises(pydantic.ValidationError) as raised:
        Config.model_validate({"platforms": {"prod": {"region": "eu-west-1", "access": {"read": ["*"]}}}})
    assert "needs caller authentication" in str(raised.value)
    config = Config.model_validate(
        {"auth": {"tokens": [_TOKEN]}, "platforms": {"prod": {"region": "eu-west-1", "access": {"read": ["*"]}}}}
    )
    assert config.platforms["prod"].access.submit == []
