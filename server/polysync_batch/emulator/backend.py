"""moto's Batch backend with jobs that follow the emulator's lifecycle instead of running Docker.

One instance serves one emulator: it is installed for that emulator's own account, so two
emulators in one process never share jobs, definitions or lifecycle settings.
"""

import re
import uuid
from typing import Any, cast

from moto.batch.exceptions import ClientException
from moto.batch.models import BatchBackend, Job, JobDefinition, batch_backends

from .job_clock import JobClock, SystemJobClock
from .jobs import EmulatedJob, SubmitOptions
from .lifecycle import RUNNING, Lifecycle, Timeline

# AWS allows 1 to 128 characters; moto's own pattern wrongly requires at least 2.
_JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_MAX_DESCRIBE_JOBS = 100


class EmulatedBatchBackend(BatchBackend):
    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        # install_backend() sets both; these defaults only matter after a moto reset.
        self.lifecycle = Lifecycle()
        self.clock: JobClock = SystemJobClock()
        self.publisher: Any = None  # events.EventPublisher, when the emulator publishes job events

    def submit_job(
        self,
        job_name: str,
        job_def_id: str,
        job_queue: str,
        array_properties: dict[str, int],
        depends_on: list[dict[str, str]] | None = None,
        container_overrides: dict[str, Any] | None = None,
        eks_properties_override: dict[str, Any] | None = None,
        timeout: dict[str, int] | None = None,
        parameters: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        options: SubmitOptions | None = None,
    ) -> tuple[str, str, str]:
        """Same checks and error messages as moto, then an EmulatedJob instead of a Docker thread.

        EKS overrides are accepted and ignored: the demo platform only has container jobs.
        """
        if _JOB_NAME.match(job_name or "") is None:
            raise ClientException("Job name should match valid pattern")
        job_def = self._active_job_definition(job_def_id)
        if job_def is None:
            raise ClientException(f"Job definition {job_def_id} does not exist")
        queue = self.get_job_queue(job_queue)
        if queue is None:
            raise ClientException(f"Job queue {job_queue} does not exist")
        size = (array_properties or {}).get("size")
        if size is not None and not 2 <= size <= 10_000:
            raise ClientException("arrayProperties.size must be between 2 and 10000")

        job_id = str(uuid.uuid4())
        common: dict[str, Any] = dict(
            name=job_name,
            job_definition=job_def,
            job_queue=queue,
            parameters=parameters,
            container_overrides=container_overrides,
            depends_on=depends_on,
            dependencies=self._dependencies(depends_on),
            timeout=timeout,
            options=options or SubmitOptions(),
            created_at=self.clock.now(),
        )
        children = [
            self._new_job(job_id=f"{job_id}:{index}", array_index=index, tags=None, **common)
            for index in range(size or 0)
        ]
        job = self._new_job(job_id=job_id, children=children, tags=tags, **common)
        for each in (job, *children):
            self._jobs[each.job_id] = each
            if self.publisher is not None:
                self.publisher.track(each)
        return job_name, job.job_id, job.arn

    def describe_jobs(self, jobs: list[str] | None) -> list[dict[str, Any]]:
        """Looks each id (or job ARN) up instead of scanning every job like moto does, which
        also cannot trip over a SubmitJob adding to the registry mid-scan."""
        jobs = jobs or []
        if len(jobs) > _MAX_DESCRIBE_JOBS:
            raise ClientException(f"DescribeJobs accepts at most {_MAX_DESCRIBE_JOBS} job IDs, got {len(jobs)}")
        found: dict[str, dict[str, Any]] = {}
        for identifier in jobs:
            job_id = identifier.rsplit(":job/", 1)[-1]
            job = self.get_job_by_id(job_id)
            if job is not None and job_id not in found:
                found[job_id] = job.describe()
        return list(found.values())

    def list_jobs(
        self,
        job_queue_name: str | None,
        array_job_id: str | None,
        job_status: str | None = None,
        filters: list[dict[str, Any]] | None = None,
    ) -> list[Job]:
        """moto's listing (incl. its JOB_NAME filter) with three AWS behaviours it lacks."""
        jobs = cast(list[EmulatedJob], super().list_jobs(job_queue_name, array_job_id, job_status, filters))
        for filt in filters or []:
            if filt.get("name") == "AFTER_CREATED_AT":  # moto lists every job for it
                after = int((filt.get("values") or ["0"])[0]) / 1000
                jobs = [job for job in jobs if job.timeline.created_at > after]
        if array_job_id is None:
            # Array children are only listed under their parent (arrayJobId).
            jobs = [job for job in jobs if job.array_index is None]
        if job_status is None and filters is None:
            # With neither a status nor a filter, AWS lists RUNNING jobs only.
            jobs = [job for job in jobs if job.status == RUNNING]
        # Newest first, as AWS sorts filtered listings; also gives pagination a stable order.
        newest_first = sorted(jobs, key=lambda job: (-job.timeline.created_at, job.job_id))
        return list[Job](newest_first)

    def runnable_jobs(self, queue: Any) -> list[EmulatedJob]:
        """The queue's jobs that are RUNNABLE now (array children included, parents not)."""
        return [
            job
            for job in list(self._jobs.values())
            if isinstance(job, EmulatedJob) and job.job_queue is queue and not job.children and job.status == "RUNNABLE"
        ]

    def terminate_job(self, job_id: str, reason: str) -> None:
        self._stop_job(job_id, reason, cancel_only=False)

    def cancel_job(self, job_id: str, reason: str) -> None:
        self._stop_job(job_id, reason, cancel_only=True)

    def _stop_job(self, job_id: str, reason: str, *, cancel_only: bool) -> None:
        """Like moto: unknown job ids are silently accepted."""
        if not job_id:
            raise ClientException("'jobId' is a required field (cannot be an empty string)")
        if not reason:
            raise ClientException("'reason' is a required field (cannot be an empty string)")
        job = self.get_job_by_id(job_id)
        if isinstance(job, EmulatedJob):
            job.stop_job(reason, cancel_only=cancel_only)

    def _active_job_definition(self, identifier: str) -> JobDefinition | None:
        """Like AWS, a bare name means its latest ACTIVE revision; inactive ones cannot run."""
        if ":" in identifier:
            try:
                job_def = self.get_job_definition(identifier)
            except ValueError:  # moto's int() of a non-numeric revision, e.g. "hello:latest"
                return None
            return job_def if job_def is not None and job_def.status == "ACTIVE" else None
        revisions = [d for d in self._job_definitions.values() if d.name == identifier]
        active = [d for d in revisions if d.status == "ACTIVE"]
        return max(active, key=lambda d: d.revision, default=None)

    def _dependencies(self, depends_on: list[dict[str, str]] | None) -> list[Timeline]:
        """Timelines of the jobs depended on; unknown ids are ignored, as moto does."""
        jobs = [self.get_job_by_id(d.get("jobId", "")) for d in depends_on or []]
        return [job.timeline for job in jobs if isinstance(job, EmulatedJob)]

    def _new_job(self, **kwargs: Any) -> EmulatedJob:
        return EmulatedJob(self, self.clock, self.lifecycle, **kwargs)


def install_backend(account_id: str, region: str, lifecycle: Lifecycle, clock: JobClock) -> EmulatedBatchBackend:
    """Make moto serve Batch for this account and region from an EmulatedBatchBackend."""
    backend = EmulatedBatchBackend(region, account_id)
    backend.lifecycle = lifecycle
    backend.clock = clock
    batch_backends[account_id][region] = backend
    return backend
