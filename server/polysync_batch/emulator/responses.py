"""Three Batch API actions that moto's response layer handles too thinly for the emulator, and
one it lacks.

moto's SubmitJob drops shareIdentifier, schedulingPriorityOverride, retryStrategy and
propagateTags, and its ListJobs and DescribeJobDefinitions ignore maxResults/nextToken. The
patched actions take over only for an EmulatedBatchBackend; any other backend (moto used
elsewhere in the process) still gets moto's original code. GetJobQueueSnapshot, which moto does
not implement, is added for emulator backends only.
"""

import base64
import functools
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from moto.batch import urls as batch_urls
from moto.batch.exceptions import ClientException
from moto.batch.responses import BatchResponse

from .backend import EmulatedBatchBackend
from .jobs import SubmitOptions

T = TypeVar("T")
Handler = Callable[[BatchResponse, EmulatedBatchBackend], str]
_DEFAULT_PAGE_SIZE = 100  # ListJobs and DescribeJobDefinitions both default to 100


def _submit_job(response: BatchResponse, backend: EmulatedBatchBackend) -> str:
    param = response._get_param
    options = SubmitOptions(
        share_identifier=param("shareIdentifier"),
        scheduling_priority=param("schedulingPriorityOverride"),
        retry_strategy=param("retryStrategy"),
        propagate_tags=param("propagateTags"),
    )
    name, job_id, arn = backend.submit_job(
        param("jobName"),
        param("jobDefinition"),
        param("jobQueue"),
        param("arrayProperties", {}),
        depends_on=param("dependsOn"),
        container_overrides=param("containerOverrides"),
        eks_properties_override=param("eksPropertiesOverride"),
        timeout=param("timeout"),
        parameters=param("parameters"),
        tags=param("tags"),
        options=options,
    )
    return json.dumps({"jobArn": arn, "jobName": name, "jobId": job_id})


def _list_jobs(response: BatchResponse, backend: EmulatedBatchBackend) -> str:
    param = response._get_param
    jobs = backend.list_jobs(
        job_queue_name=param("jobQueue"),
        array_job_id=param("arrayJobId"),
        job_status=param("jobStatus"),
        filters=param("filters"),
    )
    page, next_token = _page(jobs, lambda job: job.job_id, param("maxResults"), param("nextToken"))
    return _json({"jobSummaryList": [job.describe_short() for job in page]}, next_token)


def _describe_job_definitions(response: BatchResponse, backend: EmulatedBatchBackend) -> str:
    param = response._get_param
    definitions = backend.describe_job_definitions(param("jobDefinitionName"), param("jobDefinitions"), param("status"))
    page, next_token = _page(definitions, lambda d: d.arn, param("maxResults"), param("nextToken"))
    return _json({"jobDefinitions": [d.describe() for d in page]}, next_token)


def _get_job_queue_snapshot(response: BatchResponse, backend: EmulatedBatchBackend) -> str:
    """The RUNNABLE jobs of the queue, oldest first (the emulator places in submit order), as
    AWS's front-of-queue snapshot; each job's earliestTimeAtPosition is when it was submitted."""
    queue = backend.get_job_queue(response._get_param("jobQueue") or "")
    if queue is None:
        raise ClientException("Job queue does not exist")
    front = sorted(backend.runnable_jobs(queue), key=lambda job: (job.timeline.created_at, job.job_id))[:100]
    return json.dumps(
        {
            "frontOfQueue": {
                "jobs": [
                    {"jobArn": job.arn, "earliestTimeAtPosition": int(job.timeline.created_at * 1000)} for job in front
                ],
                "lastUpdatedAt": int(backend.clock.now() * 1000),
            }
        }
    )


def _page(
    items: Sequence[T], key: Callable[[T], str], max_results: int | None, next_token: str | None
) -> tuple[Sequence[T], str | None]:
    """One page; the token names the last item returned, so new jobs do not shift pages."""
    start = 0
    if next_token:
        try:
            after = base64.urlsafe_b64decode(next_token.encode()).decode()
            start = [key(item) for item in items].index(after) + 1
        except ValueError:  # undecodable, or its item is gone
            raise ClientException("Invalid nextToken") from None
    size = max_results or _DEFAULT_PAGE_SIZE
    page = items[start : start + size]
    if start + size >= len(items):
        return page, None
    return page, base64.urlsafe_b64encode(key(page[-1]).encode()).decode()


def _json(result: dict[str, Any], next_token: str | None) -> str:
    if next_token is not None:
        result["nextToken"] = next_token
    return json.dumps(result)


_HANDLERS: dict[str, Handler] = {
    "submitjob": _submit_job,
    "listjobs": _list_jobs,
    "describejobdefinitions": _describe_job_definitions,
}
SNAPSHOT_PATH = "{0}/v1/getjobqueuesnapshot"


def _dispatching(original: Callable[[BatchResponse], str], handler: Handler) -> Any:
    @functools.wraps(original)
    def action(self: BatchResponse) -> str:
        backend = self.batch_backend
        if isinstance(backend, EmulatedBatchBackend):
            return handler(self, backend)
        return original(self)

    action.emulator_original = original  # type: ignore[attr-defined]
    return action


def _snapshot_not_implemented(self: BatchResponse) -> str:
    raise NotImplementedError("The get_job_queue_snapshot action has not been implemented")


def install_responses() -> None:
    """Patch BatchResponse's three actions and add GetJobQueueSnapshot (its URL and action) for
    emulator backends; safe to call more than once. Call before the server serves Batch."""
    for action, handler in _HANDLERS.items():
        current = getattr(BatchResponse, action)
        if not hasattr(current, "emulator_original"):
            setattr(BatchResponse, action, _dispatching(current, handler))
    if not hasattr(BatchResponse, "getjobqueuesnapshot"):
        BatchResponse.getjobqueuesnapshot = _dispatching(  # type: ignore[attr-defined]
            _snapshot_not_implemented, _get_job_queue_snapshot
        )
    batch_urls.url_paths.setdefault(SNAPSHOT_PATH, BatchResponse.dispatch)
