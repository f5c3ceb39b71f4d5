"""What TestConnection reports."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class CheckResult(enum.Enum):
    ALLOWED = "ALLOWED"
    DENIED = "DENIED"
    UNVERIFIED = "UNVERIFIED"
    ERROR = "ERROR"


@dataclass(frozen=True)
class PermissionCheck:
    permission: str
    result: CheckResult
    detail: str


@dataclass(frozen=True)
class QueueStatus:
    name: str
    exists: bool
    arn: str = ""
    state: str = ""
    status: str = ""
    status_reason: str = ""
    scheduling_policy_arn: str = ""


@dataclass
class ConnectionReport:
    platform: str
    region: str
    caller_arn: str = ""
    queue: QueueStatus | None = None
    checks: list[PermissionCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems
