"""Before a submit (and for validate_only, SPEC §13): is the queue usable, and could any of its
compute environments ever place the job? A job none could place is refused with
JOB_CANNOT_BE_PLACED before any SubmitJob and before the request_id is claimed.

The queue's compute environments are read at most once per queue per `ttl_seconds` (they
change rarely). When the service may not read them, or AWS does not answer, a real submit goes
ahead with a warning; only validate_only reports AWS's failure as the submit would.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable

from polysync_batch.domain import errors, placement
from polysync_batch.domain.errors import Reason
from polysync_batch.domain.models import Pipeline, PlatformInfo
from polysync_batch.domain.placement import QueueCapacity, Requirement
from polysync_batch.domain.submit import SubmitRequest
from polysync_batch.service.ports import BatchPort

log = logging.getLogger(__name__)

MAX_QUEUES_CACHED = 256  # queue names come from callers: the cache is bounded


class PlacementCheck:
    def __init__(
        self,
        info: PlatformInfo,
        batch: BatchPort,
        ttl_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._info = info
        self._batch = batch
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, QueueCapacity]] = OrderedDict()
        self._said_unreadable = False

    async def check(self, request: SubmitRequest, pipeline: Pipeline, queue: str) -> list[str]:
        """The warnings of a submit that may go ahead; raises when it must not."""
        warnings: list[str] = []
        try:
            capacity = await self._capacity(queue)
        except errors.PlatformError as failure:
            if request.validate_only and not isinstance(failure, errors.PermissionDenied):
                raise
            warnings.append(f"the job queue could not be read, so placement was not checked: {failure.message}")
            return warnings
        if not capacity.queue.exists:
            if request.validate_only:
                raise errors.job_queue_not_found(queue, self._info.region, self._info.name)
            return warnings  # SubmitJob reports it, as it always has
        warnings += self._queue_checks(request, capacity, queue)
        if capacity.environments is None:
            if not self._said_unreadable:
                self._said_unreadable = True
                log.warning("placement not checked on platform %s: %s", self._info.name, capacity.unreadable)
            warnings.append(
                "the service may not read the queue's compute environments (batch:DescribeComputeEnvironments), "
                "so whether they could ever place the job was not checked"
            )
            return warnings
        requirement = Requirement(
            vcpus=request.vcpus if request.vcpus is not None else pipeline.vcpus,
            memory_mib=request.memory_mib if request.memory_mib is not None else pipeline.memory_mib,
            gpus=request.gpus if request.gpus is not None else pipeline.gpus,
        )
        verdict = placement.check(requirement, capacity.environments)
        if not verdict.placeable:
            raise errors.FailedPrecondition(
                Reason.JOB_CANNOT_BE_PLACED,
                f"no compute environment of job queue {queue!r} could ever place this job "
                f"({requirement.describe()}): {'; '.join(verdict.reasons)}",
                hint=(
                    "Ask for less (vcpus, memory_mib, gpus), use another job_queue, or raise the compute "
                    f"environments' maximum vCPUs / instance types; nothing was submitted. See {placement.AWS_DOC}"
                ),
                metadata={
                    "job_queue": queue,
                    "platform": self._info.name,
                    "requested_vcpus": f"{requirement.vcpus:g}" if requirement.vcpus is not None else "",
                    "requested_memory_mib": str(requirement.memory_mib or ""),
                    "requested_gpus": str(requirement.gpus or ""),
                    **verdict.largest,
                },
            )
        return warnings + verdict.warnings

    def _queue_checks(self, request: SubmitRequest, capacity: QueueCapacity, queue: str) -> list[str]:
        """State and fair-share checks; validate_only raises what SubmitJob would refuse."""
        status = capacity.queue
        warnings: list[str] = []
        if status.state and status.state != "ENABLED":
            if request.validate_only:
                raise errors.InvalidArgument(
                    Reason.AWS_REQUEST_REJECTED,
                    f"job queue {queue!r} is {status.state}: AWS Batch accepts no job on it",
                    metadata={"job_queue": queue, "platform": self._info.name},
                )
        elif status.status and status.status != "VALID":
            warnings.append(f"job queue {queue!r} is {status.status}: a job may stay RUNNABLE ({status.status_reason})")
        if request.validate_only:
            if status.scheduling_policy_arn and not request.share_identifier:
                raise errors.invalid(
                    "share_identifier", f"is required: job queue {queue!r} has a fair-share scheduling policy"
                )
            if request.share_identifier and not status.scheduling_policy_arn:
                raise errors.invalid(
                    "share_identifier", f"must be empty: job queue {queue!r} has no fair-share scheduling policy"
                )
        return warnings

    async def _capacity(self, queue: str) -> QueueCapacity:
        now = self._clock()
        cached = self._cache.get(queue)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        capacity = await self._batch.queue_capacity(queue)
        self._cache[queue] = (now, capacity)
        self._cache.move_to_end(queue)
        while len(self._cache) > MAX_QUEUES_CACHED:
            self._cache.popitem(last=False)
        return capacity
