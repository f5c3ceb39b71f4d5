"""Hand-written helpers over the generated polysync.platform.v1 stubs: a watch that survives
server restarts, and the ErrorInfo reason of a failed call."""

from polysync_platform_client.errors import ERROR_DOMAIN, error_info, error_reason
from polysync_platform_client.watch import watch_run

__all__ = ["ERROR_DOMAIN", "error_info", "error_reason", "watch_run"]
