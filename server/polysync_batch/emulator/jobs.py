"""A moto Job whose state comes from a Timeline instead of a Docker container.

moto's own Job runs Docker in a thread (or, in batch_simple, finishes at once) and drops fields
AWS returns, so this subclass keeps moto's bookkeeping (ids, ARN, tags, queue membership) and
replaces the state and both renderings (ListJobs summary and DescribeJobs detail).
"""

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from moto.batch.models import BatchBackend, Job, JobDefinition, JobQueue

from .job_clock import JobClock
from .lifecycle import FAILED, FAILURES, ArrayTimeline, JobTimeline, JobView, Lifecycle, Timeline
from .logs import ContainerLogs, simulated_output

DEFAULT_LOG_GROUP = "/aws/batch/job"
_REF = re.compile(r"Ref::([A-Za-z0-9_]+)")


@dataclass(frozen=True)
class SubmitOptions:
    """SubmitJob fields that moto's backend does not take but DescribeJobs returns."""

    share_identifier: str | None = None
    scheduling_priority: int | None = None
    retry_strategy: dict[str, Any] | None = None
    propagate_tags: bool | None = None


def substitute(command: list[str], parameters: dict[str, str]) -> tuple[list[str], list[str]]:
    """Replace Ref::name placeholders; also return the names that had no value."""
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if match[1] in parameters:
            return parameters[match[1]]
        missing.append(match[1])
        return match[0]

    return [_REF.sub(replace, part) for part in command], missing


def _int_parameter(parameters: dict[str, str], name: str) -> int | None:
    try:
        return int(parameters[name])
    except (KeyError, ValueError):
        return None


def _seconds_parameter(parameters: dict[str, str], name: str) -> float | None:
    try:
        seconds = float(parameters[name])
    except (KeyError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def _millis(seconds: float) -> int:
    return int(seconds * 1000)


class EmulatedJob(Job):
    def __init__(
        self,
        backend: BatchBackend,
        clock: JobClock,
        lifecycle: Lifecycle,
        *,
        job_id: str,
        name: str,
        job_definition: JobDefinition,
        job_queue: JobQueue,
        parameters: dict[str, str] | None,
        container_overrides: dict[str, Any] | None,
        depends_on: list[dict[str, str]] | None,
        dependencies: Sequence[Timeline],
        timeout: dict[str, int] | None,
        tags: dict[str, str] | None,
        options: SubmitOptions,
        created_at: float,
        array_index: int | None = None,
        children: Sequence["EmulatedJob"] = (),
    ) -> None:
        super().__init__(
            name,
            job_definition,
            job_queue,
            backend,
            log_backend=backend.logs_backend,
            container_overrides=container_overrides,
            eks_properties_override=None,
            depends_on=depends_on,
            parameters=parameters,
            all_jobs=backend._jobs,
            timeout=timeout,
            array_properties={"index": array_index} if array_index is not None else {},
            provided_job_id=job_id,
            tags=tags,
        )
        self._clock = clock
        self.options = options
        self.array_index = array_index
        self.children = list(children)
        # moto's own list_jobs(arrayJobId=...) finds the children here.
        self._child_jobs = list[Job](self.children) or None

        self.command, missing = substitute(self._configured_command(), self.parameters)
        task_id = hashlib.sha1(job_id.encode()).hexdigest()[:32]
        self.task_arn = self._arn("ecs", f"task/polysync-emulator/{task_id}")
        self.container_instance_arn = self._arn("ecs", f"container-instance/polysync-emulator/{task_id[::-1]}")
        log_options = self._log_options()
        stream_prefix = log_options.get("awslogs-stream-prefix", job_definition.name)
        self._log_group = log_options.get("awslogs-group", DEFAULT_LOG_GROUP)
        self._stream_prefix = stream_prefix
        self._missing = missing
        self.logs = ContainerLogs(
            backend.logs_backend, self._log_group, f"{stream_prefix}/default/{task_id}", self._output(missing)
        )
        self._attempt_logs: dict[int, ContainerLogs] = {0: self.logs}

        self.timeline: Timeline
        if self.children:
            self.timeline = ArrayTimeline(created_at, [child.timeline for child in self.children])
        else:
            # Demo knobs: `exit_code` makes the container fail, `duration_seconds` sets how
            # long it runs; an unresolved Ref:: placeholder fails it like a real container would.
            # `failure` plays one failure cause (lifecycle.FAILURES; README "Why a run failed"),
            # `state_time_limit_seconds` is when the queue's time limit action cancels `unplaceable`.
            exit_code = _int_parameter(self.parameters, "exit_code") or (1 if missing else 0)
            run_seconds = _seconds_parameter(self.parameters, "duration_seconds")
            timeout_spec = timeout or job_definition.timeout or {}
            failure = self.parameters.get("failure")
            retry_strategy = options.retry_strategy or job_definition.retry_strategy or {}
            time_limit = _seconds_parameter(self.parameters, "state_time_limit_seconds")
            self.timeline = JobTimeline(
                created_at,
                lifecycle,
                run_seconds=lifecycle.running if run_seconds is None else run_seconds,
                exit_code=exit_code,
                timeout_seconds=timeout_spec.get("attemptDurationSeconds"),
                depends_on=dependencies,
                failure=failure if failure in FAILURES else None,
                attempts_allowed=int(retry_strategy.get("attempts") or 1),
                time_limit_seconds=5.0 if time_limit is None else time_limit,
            )

    # moto reads `status` (its ListJobs jobStatus filter, reset); it is derived, never set.
    @property  # type: ignore[misc]
    def status(self) -> str:
        return self.view().status

    def view(self) -> JobView:
        return self.timeline.view(self._clock.now())

    def stop_job(self, reason: str, *, cancel_only: bool) -> None:
        self.timeline.stop(self._clock.now(), reason, cancel_only=cancel_only)

    def describe_short(self) -> dict[str, Any]:
        """A ListJobs JobSummary."""
        view = self._observe()
        summary = self._common(view)
        if view.exit_code is not None:
            summary["container"] = {"exitCode": view.exit_code}
        if self.children:
            summary["arrayProperties"] = {"size": len(self.children)}
        elif self.array_index is not None:
            summary["arrayProperties"] = {"index": self.array_index}
        return summary

    def describe(self, at: float | None = None) -> dict[str, Any]:
        """A DescribeJobs JobDetail, now (or as it was at `at`, for the event publisher)."""
        at = self._clock.now() if at is None else at
        view = self._observe(at)
        detail = self._common(view)
        detail.update(
            jobQueue=self.job_queue.arn,
            dependsOn=self.depends_on or [],
            parameters=self.parameters,
            tags=self.backend.list_tags_for_resource(self.arn),
            platformCapabilities=self.job_definition.platform_capabilities or [],
            attempts=self._attempts(view),
        )
        if self.job_definition.container_properties is not None:
            detail["container"] = self._container(view)
        timeout = self.timeout or self.job_definition.timeout
        if timeout:
            detail["timeout"] = timeout
        retry_strategy = self.options.retry_strategy or self.job_definition.retry_strategy
        if retry_strategy:
            detail["retryStrategy"] = retry_strategy
        propagate_tags = self.options.propagate_tags
        if propagate_tags is None:
            propagate_tags = self.job_definition.propagate_tags
        if propagate_tags is not None:
            detail["propagateTags"] = propagate_tags
        if self.options.share_identifier is not None:
            detail["shareIdentifier"] = self.options.share_identifier
        if self.options.scheduling_priority is not None:
            detail["schedulingPriority"] = self.options.scheduling_priority
        if isinstance(self.timeline, ArrayTimeline):
            detail["arrayProperties"] = {
                "size": len(self.children),
                "statusSummary": self.timeline.status_summary(at),
            }
        elif self.array_index is not None:
            detail["arrayProperties"] = {"index": self.array_index}
        return detail

    def _observe(self, at: float | None = None) -> JobView:
        """The job's view now, after writing the log lines it has produced so far."""
        at = self._clock.now() if at is None else at
        for child in self.children:
            child.logs.sync(child.timeline.view(at))
        view = self.timeline.view(at)
        if not self.children:
            for index, attempt in enumerate(view.attempts or ()):
                if index < view.attempt or view.terminal:
                    self._logs_of(index).sync(
                        JobView(
                            FAILED,
                            started_at=attempt.started_at,
                            stopped_at=attempt.stopped_at,
                            exit_code=attempt.exit_code,
                            placed=True,
                        )
                    )
            if not view.terminal or not view.attempts:
                self._logs_of(view.attempt).sync(view)
        return view

    def _logs_of(self, attempt: int) -> ContainerLogs:
        """Each attempt runs in its own task, with its own log stream."""
        if attempt not in self._attempt_logs:
            stream = f"{self._stream_prefix}/default/{self._task_id(attempt)}"
            self._attempt_logs[attempt] = ContainerLogs(
                self.backend.logs_backend, self._log_group, stream, self._output(self._missing, attempt)
            )
        return self._attempt_logs[attempt]

    def _task_id(self, attempt: int) -> str:
        seed = self.job_id if attempt == 0 else f"{self.job_id}#attempt{attempt}"
        return hashlib.sha1(seed.encode()).hexdigest()[:32]

    def _common(self, view: JobView) -> dict[str, Any]:
        common: dict[str, Any] = {
            "jobArn": self.arn,
            "jobId": self.job_id,
            "jobName": self.job_name,
            "createdAt": _millis(self.timeline.created_at),
            "status": view.status,
            "jobDefinition": self.job_definition.arn,
        }
        if view.reason is not None:
            common["statusReason"] = view.reason
        if view.started_at is not None:
            common["startedAt"] = _millis(view.started_at)
        if view.stopped_at is not None:
            common["stoppedAt"] = _millis(view.stopped_at)
        return common

    def _container(self, view: JobView) -> dict[str, Any]:
        """The definition's container properties with this job's overrides and runtime fields."""
        container = dict(self.job_definition.container_properties or {})
        overrides = self.container_overrides
        container["command"] = self.command
        container["environment"] = [{"name": key, "value": value} for key, value in self._environment().items()]
        if "resourceRequirements" in overrides:
            by_type = {r["type"]: r for r in container.get("resourceRequirements", [])}
            by_type.update({r["type"]: r for r in overrides["resourceRequirements"]})
            container["resourceRequirements"] = list(by_type.values())
        if "instanceType" in overrides:
            container["instanceType"] = overrides["instanceType"]
        if view.placed and not self.children:
            task_id = self._task_id(view.attempt)
            container.update(
                logStreamName=self._logs_of(view.attempt).stream,
                taskArn=self._arn("ecs", f"task/polysync-emulator/{task_id}"),
                containerInstanceArn=self._arn("ecs", f"container-instance/polysync-emulator/{task_id[::-1]}"),
                networkInterfaces=[],
            )
        if view.exit_code is not None:
            container["exitCode"] = view.exit_code
        if view.container_reason:
            container["reason"] = view.container_reason
        return container

    def _attempts(self, view: JobView) -> list[dict[str, Any]]:
        """One attempt once a placed container has stopped; a `failure` scenario lists its own."""
        if view.attempts is not None and not self.children:
            return [self._attempt(index, a) for index, a in enumerate(view.attempts)]
        if self.children or not view.placed or view.stopped_at is None:
            return []
        container: dict[str, Any] = {
            "containerInstanceArn": self.container_instance_arn,
            "taskArn": self.task_arn,
            "logStreamName": self.logs.stream,
            "networkInterfaces": [],
        }
        if view.exit_code is not None:
            container["exitCode"] = view.exit_code
        attempt: dict[str, Any] = {"container": container, "stoppedAt": _millis(view.stopped_at)}
        if view.started_at is not None:
            attempt["startedAt"] = _millis(view.started_at)
        if view.reason is not None:
            attempt["statusReason"] = view.reason
        return [attempt]

    def _attempt(self, index: int, attempt: Any) -> dict[str, Any]:
        task_id = self._task_id(index)
        container: dict[str, Any] = {
            "containerInstanceArn": self._arn("ecs", f"container-instance/polysync-emulator/{task_id[::-1]}"),
            "taskArn": self._arn("ecs", f"task/polysync-emulator/{task_id}"),
            "logStreamName": self._logs_of(index).stream,
            "networkInterfaces": [],
        }
        if attempt.exit_code is not None:
            container["exitCode"] = attempt.exit_code
        if attempt.container_reason:
            container["reason"] = attempt.container_reason
        detail: dict[str, Any] = {
            "container": container,
            "stoppedAt": _millis(attempt.stopped_at),
            "statusReason": attempt.reason,
        }
        if attempt.started_at is not None:
            detail["startedAt"] = _millis(attempt.started_at)
        return detail

    def _configured_command(self) -> list[str]:
        properties = self.job_definition.container_properties or {}
        return list(self.container_overrides.get("command") or properties.get("command") or [])

    def _environment(self) -> dict[str, str]:
        """Definition environment with the job's overrides on top."""
        properties = self.job_definition.container_properties or {}
        environment = {e["name"]: e["value"] for e in properties.get("environment", [])}
        environment.update({e["name"]: e["value"] for e in self.container_overrides.get("environment", [])})
        return environment

    def _output(self, missing: list[str], attempt: int = 0) -> list[str]:
        runtime = {
            "AWS_BATCH_JOB_ID": self.job_id,
            "AWS_BATCH_JQ_NAME": self.job_queue.name,
            "AWS_BATCH_JOB_ATTEMPT": str(attempt + 1),
            **self._environment(),
        }
        if self.array_index is not None:
            runtime["AWS_BATCH_JOB_ARRAY_INDEX"] = str(self.array_index)
        lines = simulated_output(self.command, runtime)
        if missing:
            placeholders = ", ".join(f"Ref::{name}" for name in missing)
            lines.append(f"[emulator] no value for parameter placeholder(s): {placeholders}")
        return lines

    def _log_options(self) -> dict[str, str]:
        properties = self.job_definition.container_properties or {}
        log_configuration = properties.get("logConfiguration") or {}
        if log_configuration.get("logDriver") != "awslogs":
            return {}
        return dict(log_configuration.get("options") or {})

    def _arn(self, service: str, resource: str) -> str:
        partition = self.arn.split(":")[1]
        return f"arn:{partition}:{service}:{self.backend.region_name}:{self.backend.account_id}:{resource}"
