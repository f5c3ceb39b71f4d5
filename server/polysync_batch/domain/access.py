"""Per-platform access (SPEC §8.2): which identified callers may read and which may submit.
Pure: the auth interceptor asks it once per call, before any handler or AWS call."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from polysync_batch.domain import errors

ANY_CALLER = "*"


class Action(enum.StrEnum):
    READ = "read"  # Get*, List*, Watch*, Stream*, TestConnection
    SUBMIT = "submit"  # ExecutePipeline, CancelPipelineRun; implies read


@dataclass(frozen=True)
class PlatformAccess:
    read: frozenset[str]
    submit: frozenset[str]

    @classmethod
    def of(cls, read: Iterable[str], submit: Iterable[str]) -> PlatformAccess:
        return cls(frozenset(read), frozenset(submit))

    def allows(self, caller: str, action: Action) -> bool:
        names = self.submit | self.read if action is Action.READ else self.submit
        return caller in names or ANY_CALLER in names


class AccessPolicy:
    """Access tables by platform name; a platform without one is open to every identified caller."""

    def __init__(self, tables: Mapping[str, PlatformAccess], default_platform: str | None) -> None:
        self._tables = dict(tables)
        self._default = default_platform

    def check(self, caller: str, platform: str, action: Action) -> None:
        """Raise CALLER_NOT_ALLOWED unless `caller` may do `action` on `platform` ("" = the default).
        An unknown platform passes: the use case reports PLATFORM_NOT_FOUND."""
        name = platform or self._default or ""
        table = self._tables.get(name)
        if table is not None and not table.allows(caller, action):
            raise errors.caller_not_allowed(caller, name, action.value)
