"""A watch's events with each RUNNABLE run annotated (its queue position, its queue's blockers)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable

from polysync_batch.domain.models import Run
from polysync_batch.service.ports import WatchEvent

RUNNABLE = "RUNNABLE"


class RunnableAnnotated:
    """An object, not an async generator, because every open watch stream holds one (no frame kept
    between messages, no registration with the loop)."""

    __slots__ = ("_annotate", "_events")

    def __init__(self, annotate: Callable[[Run], Awaitable[Run]], events: AsyncIterator[WatchEvent]) -> None:
        self._annotate = annotate
        self._events = events

    def __aiter__(self) -> RunnableAnnotated:
        return self

    async def __anext__(self) -> WatchEvent:
        event = await self._events.__anext__()
        if event.run is not None and event.run.native_status == RUNNABLE:
            event = dataclasses.replace(event, run=await self._annotate(event.run))
        return event

    async def aclose(self) -> None:
        close = getattr(self._events, "aclose", None)
        if close is not None:
            await close()
