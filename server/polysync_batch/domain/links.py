"""AWS console links for runs and their logs, in the region's partition."""

from __future__ import annotations

from urllib.parse import quote


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
    return quote(value, safe="").replace("%", "$25")


def log_stream_console_url(region: str, log_group: str, log_stream: str, console_domain: str | None = None) -> str:
    return (
        f"{console_base(region, console_domain)}/cloudwatch/home?region={region}"
        f"#logsV2:log-groups/log-group/{_console_escape(log_group)}"
        f"/log-events/{_console_escape(log_stream)}"
    )
