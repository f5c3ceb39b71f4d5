"""One typed settings object, read from a TOML file plus `POLYSYNC_BATCH_*` environment
overrides and validated once at start-up; the only home of every default. Each key is listed
in docs/configuration.md.

A bad setting raises `ConfigError` whose message is one line naming the key by its dotted
path, so the CLI can print it and exit without a traceback.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from polysync_batch.domain.tokens import TokenSigner

ENV_PREFIX = "POLYSYNC_BATCH_"
CONFIG_PATH_ENV = "POLYSYNC_BATCH_CONFIG"

AuthMode = Literal["default", "web_identity", "assume_role", "access_keys"]

_ROLE_ARN = re.compile(r"arn:aws(-[a-z]+)*:iam::\d{12}:role/([\w+=,.@-]+/)*[\w+=,.@-]{1,64}")
_REGION = re.compile(r"[a-z]{2,4}(-[a-z]+)+-\d+")
_PLATFORM_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_ENV_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ACCESS_KEY_ID = re.compile(r"(AKIA|ASIA)[A-Z0-9]{16}")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_ADDRESS = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})")
_TOML_POSITION = re.compile(r"\s*\((at line \d+, column \d+|at end of document)\)$")

# The auth fields each mode accepts besides `mode`; anything else set by the user is an error
# rather than silently ignored, because a misplaced key usually means a misunderstood mode.
_MODE_FIELDS: dict[str, frozenset[str]] = {
    "default": frozenset(),
    "web_identity": frozenset({"role_arn", "session_name", "duration_seconds", "token_file", "azure_scope"}),
    "assume_role": frozenset({"role_arn", "session_name", "external_id", "duration_seconds", "source"}),
    "access_keys": frozenset({"access_key_id_env", "secret_access_key_env", "session_token_env"}),
}
_MAX_SOURCE_DEPTH = 2
# AWS caps a session obtained by role chaining (AssumeRole with role credentials) at one hour.
_MAX_CHAINED_DURATION = 3600


class ConfigError(Exception):
    """A configuration problem; `str()` is one line naming the key and what to fix."""


def _key_error(key: str, message: str) -> PydanticCustomError:
    # Model validators report against the model's location; `key` names the field within it
    # so the message can point at `platforms.prod.auth.role_arn`, not just `...auth`.
    return PydanticCustomError("config_key", "{message}", {"key": key, "message": message})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthConfig(_Model):
    """How a platform obtains AWS credentials (docs/configuration.md, "auth")."""

    mode: AuthMode = "default"
    role_arn: str | None = None
    session_name: str = Field(default="polysync-batch", pattern=r"^[\w+=,.@-]{2,64}$")
    external_id: str | None = Field(default=None, min_length=2, max_length=1224)
    duration_seconds: int | None = Field(default=None, ge=900, le=43200)
    token_file: Path | None = None
    azure_scope: str | None = Field(default=None, min_length=1)
    access_key_id_env: str | None = None
    secret_access_key_env: str | None = None
    session_token_env: str | None = None
    source: AuthConfig | None = None

    @field_validator("role_arn")
    @classmethod
    def _role_arn_shape(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_ARN.fullmatch(value):
            raise ValueError("not an IAM role ARN (expected arn:aws:iam::<12-digit account>:role/<name>)")
        return value

    @field_validator("access_key_id_env", "secret_access_key_env", "session_token_env")
    @classmethod
    def _env_var_name(cls, value: str | None) -> str | None:
        # The file holds the *name* of a variable; catch a pasted secret without echoing it.
        if value is None:
            return value
        if _ACCESS_KEY_ID.fullmatch(value) or not _ENV_VAR_NAME.fullmatch(value):
            raise ValueError("must be the name of an environment variable holding the secret, not the secret")
        return value

    @model_validator(mode="after")
    def _fits_mode(self) -> AuthConfig:
        allowed = _MODE_FIELDS[self.mode]
        for key in sorted(self.model_fields_set - {"mode"} - allowed):
            modes = " or ".join(f'"{m}"' for m, keys in _MODE_FIELDS.items() if key in keys)
            raise _key_error(key, f'not valid when mode is "{self.mode}" (only for mode {modes})')
        if self.mode in ("web_identity", "assume_role") and self.role_arn is None:
            raise _key_error("role_arn", f'required when mode is "{self.mode}"')
        if self.mode == "web_identity":
            if self.token_file is not None and self.azure_scope is not None:
                raise _key_error("azure_scope", "set either token_file or azure_scope, not both")
            if self.token_file is None and self.azure_scope is None:
                raise _key_error("token_file", 'required when mode is "web_identity" (or set azure_scope)')
        if self.mode == "access_keys":
            for key in ("access_key_id_env", "secret_access_key_env"):
                if getattr(self, key) is None:
                    raise _key_error(key, 'required when mode is "access_keys"')
        chained = self.source is not None and self.source.mode in ("web_identity", "assume_role")
        if chained and (self.duration_seconds or 0) > _MAX_CHAINED_DURATION:
            raise _key_error(
                "duration_seconds",
                f"at most {_MAX_CHAINED_DURATION} when the source is itself a role "
                "(AWS limits role chaining to one hour)",
            )
        depth, source = 0, self.source
        while source is not None:
            depth, source = depth + 1, source.source
        if depth > _MAX_SOURCE_DEPTH:
            raise _key_error("source", f"at most {_MAX_SOURCE_DEPTH} nested sources are supported")
        return self


class EventsConfig(_Model):
    """The platform's SQS queue of "Batch Job State Change" events (SPEC §11, docs/events.md)."""

    sqs_queue_url: str
    reconcile_interval_seconds: float = Field(default=60.0, gt=0)  # polls of watched runs while events flow
    wait_time_seconds: int = Field(default=20, ge=1, le=20)  # ReceiveMessage long poll
    receivers: int = Field(default=4, ge=1, le=32)  # ReceiveMessage calls in flight at once
    create: bool = False  # create the queue, its policy and the EventBridge rule at start-up
    # > 0: receive and parse in this many processes of their own (aws/event_ingest.py)
    ingest_processes: int = Field(default=0, ge=0, le=8)

    @field_validator("sqs_queue_url")
    @classmethod
    def _queue_url(cls, value: str) -> str:
        parts = urlsplit(value)
        path = [p for p in parts.path.split("/") if p]
        if parts.scheme not in ("http", "https") or not parts.netloc or len(path) != 2 or not path[0].isdigit():
            raise ValueError("must be an SQS queue URL: https://sqs.<region>.amazonaws.com/<account>/<queue>")
        return value

    @property
    def account_id(self) -> str:
        """The queue's account: events of other accounts are refused."""
        return [p for p in urlsplit(self.sqs_queue_url).path.split("/") if p][0]

    @property
    def queue_name(self) -> str:
        return [p for p in urlsplit(self.sqs_queue_url).path.split("/") if p][1]


class AccessConfig(_Model):
    """Which identified callers may use a platform (SPEC §8.2); "*" is any identified caller.
    A list that is not given is empty; `submit` implies `read`."""

    read: list[str] = Field(default_factory=list)
    submit: list[str] = Field(default_factory=list)

    @field_validator("read", "submit")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        if any(not name.strip() for name in value):
            raise ValueError('caller names must not be empty ("*" means any identified caller)')
        return value


class PlatformConfig(_Model):
    """One AWS account and region the service submits to."""

    region: str
    default_job_queue: str | None = Field(default=None, min_length=1)
    endpoint_url: str | None = None
    console_domain: str | None = None
    auth: AuthConfig = Field(default_factory=AuthConfig)
    retry_mode: Literal["standard", "adaptive"] = "standard"
    max_attempts: int = Field(default=5, ge=1, le=20)
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    read_timeout_seconds: float = Field(default=30.0, gt=0)
    # AWS allows about 50 SubmitJob per second per account; callers over this wait their turn.
    submit_jobs_per_second: float = Field(default=20.0, gt=0, le=50)
    # A DynamoDB table shared by the replicas makes request_id hold for concurrent calls too.
    idempotency_table: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{3,255}$")
    idempotency_ttl_seconds: float = Field(default=86400.0, ge=60)
    # The run changes feed's durable history (SPEC §12), shared by the replicas; in the process without it.
    history_table: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{3,255}$")
    history_retention_seconds: float = Field(default=604800.0, ge=60)
    events: EventsConfig | None = None  # event-driven watches; polling only without it
    access: AccessConfig | None = None  # None: every identified caller may use the platform
    # The queues (names or ARNs) the platform may submit to, list and read runs from, besides
    # default_job_queue; None: any queue of the account (SPEC §8.5).
    job_queues: list[str] | None = Field(default=None, min_length=1)
    get_log_events_per_second: float = Field(default=10.0, gt=0, le=50)  # CloudWatch Logs reads, all streams

    @field_validator("region")
    @classmethod
    def _region_shape(cls, value: str) -> str:
        if not _REGION.fullmatch(value):
            raise ValueError("not an AWS region name (e.g. eu-west-1, us-gov-west-1)")
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("console_domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if value is not None and not _HOSTNAME.fullmatch(value):
            raise ValueError("must be a domain name such as console.aws.amazon.com")
        return value


class WatchConfig(_Model):
    """The shared poller behind Watch* streams."""

    poll_interval_seconds: float = Field(default=5.0, gt=0)
    max_poll_interval_seconds: float = Field(default=30.0, gt=0)
    heartbeat_seconds: float = Field(default=30.0, gt=0)
    not_found_after_polls: int = Field(default=3, ge=1)
    # DescribeJobs may not know a job for seconds after SubmitJob answered: a run this server
    # submitted this recently is never NOT_FOUND.
    submit_grace_seconds: float = Field(default=30.0, ge=0)
    describe_jobs_per_second: float = Field(default=10.0, gt=0, le=50)
    runnable_warning_seconds: float = Field(default=600.0, gt=0)
    # Tuning rarely worth changing.
    interval_growth: float = Field(default=1.5, ge=1)  # an unchanged poll stretches the interval by this
    describe_jobs_burst: int = Field(default=20, ge=1)  # DescribeJobs calls the budget allows at once
    batch_gap_seconds: float = Field(default=0.02, ge=0)  # under load, partial batches wait for a pause this long
    max_backoff_seconds: float = Field(default=60.0, gt=0)  # polling after repeated AWS failures
    max_cached_runs: int = Field(default=100_000, ge=1)  # states kept for reads; watched runs always are

    @model_validator(mode="after")
    def _interval_bounds(self) -> WatchConfig:
        if self.max_poll_interval_seconds < self.poll_interval_seconds:
            raise _key_error("max_poll_interval_seconds", "must be at least poll_interval_seconds")
        return self


class TlsConfig(_Model):
    """TLS on the gRPC port (SPEC §8.1); the files are re-read when they change."""

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None  # set: mutual TLS, a client certificate from this CA is required


class ServerConfig(_Model):
    """The gRPC listener."""

    address: str = "127.0.0.1:50051"
    reflection: bool = True
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    max_message_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    max_streams_per_caller: int = Field(default=2000, ge=1)  # every server stream of one caller (or address)
    max_unidentified_streams: int = Field(default=100, ge=1)  # Health/Watch streams (no caller), in total
    # grpc core queues at most 1000 calls that have arrived but not yet been picked up and
    # cancels the rest, so a burst of 10,000 new watches would lose most of them.
    max_pending_requests: int = Field(default=20000, ge=1)
    # grpc core cancels (CANCELLED) a call the server has not picked up within this time, 30 s
    # by default: a burst of tens of thousands of new watches on 2 cores takes longer than that.
    max_unrequested_seconds: int = Field(default=120, ge=1)
    health_check_interval_seconds: float = Field(default=30.0, ge=0)  # 0: no probing, platforms SERVING
    tls: TlsConfig | None = None
    health_address: str | None = None  # a second, plaintext port serving only grpc.health.v1.Health
    allow_insecure: bool = False  # listen on a non-loopback address without TLS or caller auth
    reuse_port: bool = False  # SO_REUSEPORT: let a second server bind the same port (same-host rolling restarts)
    # A secret (≥ 32 bytes) that signs page tokens: replicas sharing it accept each other's tokens.
    # Without it each process signs with a random key, so tokens do not survive a restart.
    token_key_file: Path | None = None

    @field_validator("token_key_file")
    @classmethod
    def _token_key(cls, value: Path | None) -> Path | None:
        if value is not None:
            TokenSigner.from_file(value)  # readable and long enough; the message names no secret
        return value

    @field_validator("address", "health_address")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is None:
            return value
        match = _ADDRESS.fullmatch(value)
        if match is None or int(match.group(2)) > 65535:
            raise ValueError("must be HOST:PORT (e.g. 127.0.0.1:50051 or [::]:50051)")
        return value


class MetricsConfig(_Model):
    """Prometheus metrics (SPEC §8.3) on a port of their own; off while `address` is unset."""

    address: str | None = None  # HOST:PORT of http://HOST:PORT/metrics, e.g. "127.0.0.1:9464"

    @field_validator("address")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        match = None if value is None else _ADDRESS.fullmatch(value)
        if value is not None and (match is None or int(match.group(2)) > 65535):
            raise ValueError("must be HOST:PORT (e.g. 127.0.0.1:9464 or 0.0.0.0:9464)")
        return value


class TracingConfig(_Model):
    """OpenTelemetry tracing; off unless `endpoint` or OTEL_EXPORTER_OTLP_ENDPOINT is set."""

    endpoint: str | None = None  # OTLP/gRPC collector, e.g. "http://otel-collector:4317"
    service_name: str = Field(default="polysync-batch", min_length=1)

    @field_validator("endpoint")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError("must be an http:// or https:// URL (e.g. http://otel-collector:4317)")
        return value


_ASYMMETRIC_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES256K",
    "ES384",
    "ES512",
    "EdDSA",
)


class CallerTokenConfig(_Model):
    """One static bearer token: only its SHA-256 lives in the file."""

    caller: str = Field(min_length=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class JwtConfig(_Model):
    """Bearer JWTs verified against a JWKS (e.g. Microsoft Entra ID workload tokens)."""

    jwks_file: Path | None = None
    jwks_url: str | None = None
    issuer: str = Field(min_length=1)
    audience: str | list[str]
    caller_claim: str = Field(default="sub", min_length=1)
    algorithms: list[str] = Field(default_factory=lambda: ["RS256"], min_length=1)
    leeway_seconds: float = Field(default=60.0, ge=0, le=60)  # clock skew allowed on exp/nbf/iat
    jwks_refresh_seconds: float = Field(default=60.0, ge=1)  # an unknown kid refetches at most this often

    @field_validator("algorithms")
    @classmethod
    def _asymmetric(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in _ASYMMETRIC_ALGORITHMS:
                raise ValueError(f"{name!r} is not allowed: asymmetric only ({', '.join(_ASYMMETRIC_ALGORITHMS)})")
        return value

    @field_validator("jwks_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            loopback = parts.scheme == "http" and parts.hostname is not None and _is_loopback(f"{parts.hostname}:0")
            if not parts.netloc or not (parts.scheme == "https" or loopback):
                raise ValueError(
                    "must be an https:// URL (http:// only on a loopback host, e.g. http://127.0.0.1:8080)"
                )
        return value

    @model_validator(mode="after")
    def _one_key_source(self) -> JwtConfig:
        if (self.jwks_file is None) == (self.jwks_url is None):
            raise _key_error("jwks_file", "set exactly one of jwks_file and jwks_url")
        return self


class CallerAuthConfig(_Model):
    """How callers prove who they are (SPEC §8.2); empty: no caller authentication."""

    tokens: list[CallerTokenConfig] = Field(default_factory=list)
    jwt: JwtConfig | None = None


def _is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_error(config: Config) -> str | None:
    """Why the server must not start as configured (SPEC §8.1): an open, unauthenticated port."""
    server = config.server
    if server.allow_insecure or server.tls is not None or config.callers_authenticated:
        return None
    if _is_loopback(server.address):
        return None
    return (
        f"server.address: {server.address} is not a loopback address and neither server.tls nor caller "
        "authentication ([auth]) is configured; configure one, or set server.allow_insecure = true "
        "when a service mesh terminates TLS"
    )


class Config(_Model):
    """Everything the server needs, validated at start-up."""

    default_platform: str | None = None
    platforms: dict[str, PlatformConfig] = Field(default_factory=dict)
    server: ServerConfig = Field(default_factory=ServerConfig)
    watch: WatchConfig = Field(default_factory=WatchConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    tracing: TracingConfig = Field(default_factory=TracingConfig)
    auth: CallerAuthConfig = Field(default_factory=CallerAuthConfig)

    @property
    def callers_authenticated(self) -> bool:
        """Whether every PlatformService call needs an identified caller."""
        tls = self.server.tls
        return bool(self.auth.tokens or self.auth.jwt or (tls is not None and tls.client_ca_file is not None))

    @field_validator("platforms")
    @classmethod
    def _platform_names(cls, value: dict[str, PlatformConfig]) -> dict[str, PlatformConfig]:
        for name in value:
            if not _PLATFORM_NAME.fullmatch(name):
                raise _key_error(
                    name,
                    "platform names are lower-case letters, digits, '-' and '_', starting with a letter or digit",
                )
        return value

    @model_validator(mode="after")
    def _default_is_configured(self) -> Config:
        if self.default_platform is not None and self.default_platform not in self.platforms:
            configured = ", ".join(sorted(self.platforms)) or "none"
            raise _key_error(
                "default_platform",
                f'"{self.default_platform}" is not a configured platform (configured: {configured})',
            )
        if self.default_platform is None and len(self.platforms) > 1:
            raise _key_error("default_platform", "required when more than one platform is configured")
        if not self.callers_authenticated:
            for name, platform in self.platforms.items():
                if platform.access is not None:
                    raise _key_error(
                        f"platforms.{name}.access",
                        "needs caller authentication: [auth] tokens, [auth.jwt] or server.tls.client_ca_file",
                    )
        return self

    @property
    def default_platform_name(self) -> str | None:
        """The platform used when a request names none: the configured one, or the only one."""
        if self.default_platform is not None:
            return self.default_platform
        if len(self.platforms) == 1:
            return next(iter(self.platforms))
        return None


def load_config(path: str | None, environ: Mapping[str, str]) -> Config:
    """Read `path` (else `$POLYSYNC_BATCH_CONFIG`, else no file), apply environment overrides
    and validate. Raises `ConfigError`."""
    path = path or environ.get(CONFIG_PATH_ENV) or None
    where = f"config {path}" if path else "config"
    data = _read_toml(path, where) if path else {}
    from_env = _apply_env_overrides(data, environ, where)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        key, message = _describe(errors[0])
        # An unknown key may be reported at a prefix of the variable's path (`sevrer` for
        # POLYSYNC_BATCH_SEVRER__ADDRESS), so match whole path segments from the start.
        variable = next((v for k, v in from_env.items() if k == key or k.startswith(key + ".")), None)
        if variable is not None:
            message += f" (from {variable})"
        if len(errors) > 1:
            others = len(errors) - 1
            message += f" (and {others} more error{'s' if others > 1 else ''})"
        raise ConfigError(f"{where}: {key}: {message}") from None
    if (problem := exposure_error(config)) is not None:
        raise ConfigError(f"{where}: {problem}")
    return config


def _read_toml(path: str, where: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"{where}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's TOMLDecodeError has no line attribute; the position ends the message.
        text = str(exc)
        match = _TOML_POSITION.search(text)
        position = match.group(1) if match else "somewhere"
        reason = _TOML_POSITION.sub("", text)
        raise ConfigError(f"{where}: TOML syntax error {position}: {reason}") from None


def _apply_env_overrides(data: dict[str, Any], environ: Mapping[str, str], where: str) -> dict[str, str]:
    """Set `POLYSYNC_BATCH_A__B=v` as `data["a"]["b"] = "v"`; return dotted key → variable."""
    applied: dict[str, str] = {}
    for variable in sorted(environ):
        if not variable.startswith(ENV_PREFIX) or variable == CONFIG_PATH_ENV:
            continue
        keys = variable[len(ENV_PREFIX) :].lower().split("__")
        if not all(keys):
            raise ConfigError(f"{where}: {variable}: empty key between '__' separators")
        table = data
        for depth, key in enumerate(keys[:-1]):
            table = table.setdefault(key, {})
            if not isinstance(table, dict):
                dotted = ".".join(keys[: depth + 1])
                raise ConfigError(f"{where}: {variable}: {dotted} is a value, not a table")
        if isinstance(table.get(keys[-1]), dict):
            raise ConfigError(f"{where}: {variable}: {'.'.join(keys)} is a table; set its keys")
        table[keys[-1]] = environ[variable]
        applied[".".join(keys)] = variable
    return applied


def _describe(error: ErrorDetails) -> tuple[str, str]:
    """(dotted key, message) for one pydantic error."""
    loc = [str(part) for part in error["loc"]]
    if error["type"] == "config_key":
        loc.append(error["ctx"]["key"])
    message = {"extra_forbidden": "unknown key", "missing": "required"}.get(error["type"], error["msg"])
    return ".".join(loc), message.removeprefix("Value error, ")
