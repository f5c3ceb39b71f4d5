"""The platform's resources in Polysync's words, as the use cases return them."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime

from polysync_batch.domain.diagnosis import FailureCause
from polysync_batch.domain.queue_blocked import QueueBlocked
from polysync_batch.domain.status import RunStatus


@dataclass(frozen=True)
class PlatformInfo:
    """One configured platform as the use cases see it (built from its configuration)."""

    name: str
    region: str
    default_job_queue: str
    console_domain: str | None
    runnable_warning_seconds: float


@dataclass(frozen=True)
class Pipeline:
    name: str
    revision: int
    arn: str
    type: str
    parameters: dict[str, str]
    required_parameters: list[str]
    image: str = ""
    job_role_arn: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    platform_capabilities: list[str] = field(default_factory=list)
    # Whether a submit may override command, environment and resources (container definitions).
    container_overrides: bool = False
    # What one container asks for (the largest node range of a multi-node definition); None if unsaid.
    vcpus: float | None = None
    memory_mib: int | None = None
    gpus: int | None = None


@dataclass(frozen=True)
class RunAttempt:
    """One attempt of a job (DescribeJobs attempts[], or the attempt in progress), oldest first."""

    index: int  # 0 = the first attempt
    start_time: datetime | None = None
    stop_time: datetime | None = None
    exit_code: int | None = None
    status_reason: str = ""
    container_reason: str = ""
    failure_cause: FailureCause = FailureCause.UNSPECIFIED
    log_stream_name: str = ""


@dataclass(frozen=True)
class QueuePosition:
    """Where a RUNNABLE run stands at the front of its queue (GetJobQueueSnapshot)."""

    position: int | None  # 1 = next to be placed
    earliest_time_at_position: datetime | None = None


# GetJobQueueSnapshot's front of a queue: (job id, earliest time at its position), next first.
QueueFront = list[tuple[str, datetime | None]]


@dataclass(frozen=True)
class ArrayInfo:
    size: int
    index: int | None
    status_counts: dict[str, int]


@dataclass(frozen=True)
class StatusChange:
    """One change of a run's native status or status reason, as the service saw it."""

    native_status: str
    status_reason: str
    time: datetime  # the event's time when an event brought it, else when the service learnt it


@dataclass(frozen=True)
class Run:
    run_id: str
    platform: str
    pipeline: str
    pipeline_revision: int
    pipeline_arn: str
    job_name: str
    job_queue: str
    status: RunStatus
    native_status: str
    status_reason: str
    exit_code: int | None
    message: str
    console_url: str
    terminal: bool
    logs_url: str = ""
    log_stream_name: str = ""
    log_group_name: str = ""
    create_time: datetime | None = None
    start_time: datetime | None = None
    stop_time: datetime | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    share_identifier: str = ""
    scheduling_priority: int | None = None
    attempts: int = 0
    array: ArrayInfo | None = None
    warnings: list[str] = field(default_factory=list)
    failure_cause: FailureCause = FailureCause.UNSPECIFIED  # SPEC §13, for a FAILED or CANCELLED run
    attempt_details: tuple[RunAttempt, ...] = ()  # every attempt, oldest first
    queue_position: QueuePosition | None = None  # set on reads of a RUNNABLE run (service/queue_position.py)
    attempt_log_streams: list[str] = field(default_factory=list)  # one per finished attempt
    history: tuple[StatusChange, ...] = ()  # oldest first, bounded; recorded by the watch core
    tags: dict[str, str] = field(default_factory=dict)  # the job's tags (DescribeJobs; the feed filters on them)

    def change_key(self) -> tuple:
        """What a watcher reports a change of: status, reason, exit code and array progress."""
        counts = tuple(sorted(self.array.status_counts.items())) if self.array else ()
        return (self.native_status, self.status_reason, self.exit_code, counts)

    @classmethod
    def made(cls, **values: object) -> Run:
        """`Run(**values)` without the frozen dataclass's `object.__setattr__` per field, a quarter
        of translating a job (aws/translate.to_run makes one per event). Fields with a factory
        default (dicts, lists) must be given; the others default as in `Run(...)`."""
        run = object.__new__(cls)
        run.__dict__.update(_RUN_DEFAULTS)
        run.__dict__.update(values)
        return run

    def with_history(self, history: tuple[StatusChange, ...]) -> Run:
        """`dataclasses.replace(self, history=history)` without running the 32 fields through
        `__init__` again (the watch core does it for every state it applies)."""
        run = object.__new__(type(self))
        run.__dict__.update(self.__dict__)
        run.__dict__["history"] = history
        return run


_RUN_DEFAULTS = {f.name: f.default for f in fields(Run) if f.default is not MISSING}


@dataclass(frozen=True)
class LogEvent:
    time: datetime
    message: str


@dataclass(frozen=True)
class LogPage:
    events: list[LogEvent]
    next_token: str


def child_run_id(run_id: str, array_index: int | None) -> str:
    """The run id of one child of an array run (`<jobId>:<index>`), or the run itself."""
    return run_id if array_index is None else f"{run_id}:{array_index}"


@dataclass(frozen=True)
class QueuedEvent:
    """One message of a platform's event queue, read: a run's new state stamped with the event's
    time, or (`rejected` set) why the message is not a job event of this platform."""

    receipt: str  # what deleting the message needs
    run: Run | None = None
    time: datetime | None = None
    rejected: str = ""  # "malformed" (not a parseable job event) or "foreign" (another kind, account, region)
    problem: str = ""  # what was wrong, for the log
    blocked: QueueBlocked | None = None  # a "Batch Job Queue Blocked" event: `run` is the job blocking the queue


@dataclass(frozen=True)
class ListedRun:
    """A job as ListJobs summarizes it: enough to tell whether a known run changed."""

    run_id: str
    native_status: str
    status_reason: str = ""
