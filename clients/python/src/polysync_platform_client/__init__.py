"""Python client of the Polysync platform contract (polysync.platform.v1).

    from polysync_platform_client import connect          # sync (threads, Flask, Django, Celery)
    from polysync_platform_client.aio import connect      # asyncio

`connect()` gives a PlatformClient: `.stub` for every RPC, and helpers that follow one reconnect
policy (polysync_platform_client.policy): watch_run, watch_runs, stream_logs, execute (submit
and wait), follow_changes (the §12 feed), list_pipelines, list_runs. `explain_failure(run)` says
why a run failed in words. Error helpers read the rich details of a failed call;
`reasons` has every ErrorInfo reason the server sends.
"""

from polysync_platform_client import reasons
from polysync_platform_client._version import PROTO_SHA256, __version__
from polysync_platform_client.client import ChangeFeed, PlatformClient, connect
from polysync_platform_client.errors import (
    ERROR_DOMAIN,
    bad_request,
    error_info,
    error_reason,
    field_violations,
    help_links,
    missing_parameters,
    reason,
    retry_delay,
    retry_info,
    rpc_status,
)
from polysync_platform_client.explain import explain_failure
from polysync_platform_client.feed import FeedEvent
from polysync_platform_client.policy import (
    DEFAULT_POLICY,
    DeadlineExceeded,
    ReconnectPolicy,
    RunEvent,
    StreamEndedEarly,
    StreamIdle,
)

__all__ = [
    "DEFAULT_POLICY",
    "ERROR_DOMAIN",
    "PROTO_SHA256",
    "ChangeFeed",
    "DeadlineExceeded",
    "FeedEvent",
    "PlatformClient",
    "ReconnectPolicy",
    "RunEvent",
    "StreamEndedEarly",
    "StreamIdle",
    "__version__",
    "bad_request",
    "connect",
    "error_info",
    "error_reason",
    "explain_failure",
    "field_violations",
    "help_links",
    "missing_parameters",
    "reason",
    "reasons",
    "retry_delay",
    "retry_info",
    "rpc_status",
]
