"""AWS console links for runs and their logs, in the region's partition."""

from __future__ import annotations

import re
from urllib.parse import quote

# Characters quote(safe="") leaves alone, and "/": what log groups and streams are made of.
_PLAIN = re.compile(r"[A-Za-z0-9_.~/-]*")


def console_base(region: str, console_domain: str | None = None) -> str:
    """The console origin of a region: each partition has its own console domain."""
    if console_domain:
        return f"https://{console_domain}"
    if region.startswith("cn-"):
        return f"https://{region}.console.amazonaws.cn"
    if region.startswith("us-gov-"):
        return "https://console.amazonaws-us-gov.com"
    return f"https://{region}.console.aws.amazon.com"


def job_console_url(region: str, job_id: str, console_domain: str | None = None) -> str:
    return f"{console_base(region, console_domain)}/batch/home?region={region}#jobs/detail/{job_id}"


def _console_escape(value: str) -> str:
    # The CloudWatch console reads its fragment URL-encoded twice, with '%' written as '$25'.
    # A plain name only needs its slashes escaped: a tenth of quote()'s time (each event's run
    # links its log stream).
    if _PLAIN.fullmatch(value):
        return value.replace("/", "$252F")
    return quote(value, safe="").replace("%", "$25")


def log_stream_console_url(region: str, log_group: str, log_stream: str, console_domain: str | None = None) -> str:
    return (
        f"{console_base(region, console_domain)}/cloudwatch/home?region={region}"
        f"#logsV2:log-groups/log-group/{_console_escape(log_group)}"
        f"/log-events/{_console_escape(log_stream)}"
    )
