"""AWS Batch's "Batch Job State Change" (and "Batch Job Queue Blocked") events for the emulator's own jobs.

moto's Batch backend emits no events, and an emulated job's state is a pure function of time
(nothing ticks), so a publisher thread looks at the jobs that have not finished every
`interval` seconds and, for each whose status changed since it last looked, puts the event AWS
would send (source `aws.batch`, `detail` = the job as DescribeJobs returns it) on the
emulator's EventBridge bus. moto's EventBridge delivers it to the SQS target of the matching
rule that `seed_event_queue` created, like AWS does. As in AWS, SUBMITTED has no event, and
every later status has one: the publisher looks back over the time since its last look (in
steps of `resolution` seconds), so a status held for less than one interval is not skipped.

A job that blocks its queue (`failure` blocked) also gets AWS's "Batch Job Queue Blocked" event
when it becomes RUNNABLE: `detail` is the job as DescribeJobs returns it (RUNNABLE, the blocker
reason in `statusReason`), `resources` its ARN and its queue's (the AWS Batch user guide, "Job
queue blocked events"). AWS sends it once it has found the queue blocked; the emulator at once.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.client import BaseClient
from moto.events.utils import EventTemplateParser

from .job_clock import JobClock
from .lifecycle import SUBMITTED, TERMINAL_STATUSES

if TYPE_CHECKING:
    from .jobs import EmulatedJob

log = logging.getLogger(__name__)
EVENTS_QUEUE = "polysync-demo-events"
EVENTS_RULE = "polysync-demo-batch-events"
STATE_CHANGE = "Batch Job State Change"
QUEUE_BLOCKED = "Batch Job Queue Blocked"
EVENT_PATTERN = {"source": ["aws.batch"], "detail-type": [STATE_CHANGE, QUEUE_BLOCKED]}
_PUT_EVENTS_LIMIT = 10
STOP_WAIT_SECONDS = 5.0
# The envelope EventBridge delivers to a target without an input transformer, as AWS sends it.
ENVELOPE_KEYS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")


def _default_envelope(input_template: str | None, input_paths_map: dict[str, Any], event: dict[str, Any]) -> Any:
    """moto 5.2.5 renders the default envelope through a template that drops `account` (which
    the service checks), compiling eight JSONPath expressions per event (~40 ms, enough to lag
    the demo's events); a target without a transformer gets AWS's fields directly instead."""
    if input_template is None and not input_paths_map:
        return {key: event[key] for key in ENVELOPE_KEYS}
    return _MOTO_PARSE(input_template=input_template, input_paths_map=input_paths_map, event=event)


_MOTO_PARSE = getattr(EventTemplateParser.parse, "emulator_original", EventTemplateParser.parse)
_default_envelope.emulator_original = _MOTO_PARSE  # type: ignore[attr-defined]


def install_event_envelope() -> None:
    """Make moto's EventBridge deliver AWS's whole envelope; safe to call more than once."""
    EventTemplateParser.parse = staticmethod(_default_envelope)  # type: ignore[method-assign]


def seed_event_queue(sqs: BaseClient, events: BaseClient) -> str:
    """The emulator's event queue and the rule that delivers Batch job events into it (the set-up
    docs/events.md describes for AWS); idempotent. Returns the queue URL."""
    queue_url = str(sqs.create_queue(QueueName=EVENTS_QUEUE)["QueueUrl"])
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=EVENTS_RULE, EventPattern=json.dumps(EVENT_PATTERN), State="ENABLED")
    events.put_targets(Rule=EVENTS_RULE, Targets=[{"Id": "queue", "Arn": queue_arn}])
    return queue_url


class EventPublisher:
    def __init__(self, events: BaseClient, clock: JobClock, interval: float = 0.05, resolution: float = 0.005) -> None:
        self._events = events
        self._clock = clock
        self._interval = interval
        self._resolution = resolution
        self._looked_at: float | None = None
        self._jobs: dict[str, EmulatedJob] = {}  # not finished yet
        self._published: dict[str, str] = {}  # job id → the status of its last event
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.published = 0  # events put so far
        self._thread = threading.Thread(target=self._run, name="emulator-batch-events", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            # One PutEvents may take seconds behind a backlog (moto's SQS send is linear in the
            # queue's length, e.g. after arrays of 10,000 children); the thread is a daemon.
            self._thread.join(STOP_WAIT_SECONDS)

    def track(self, job: EmulatedJob) -> None:
        """A job just submitted: its changes from SUBMITTED on will be published."""
        with self._lock:
            self._jobs[job.job_id] = job
            self._published[job.job_id] = SUBMITTED

    def publish_changes(self) -> int:
        """Puts one event per status change since the last look; returns how many."""
        now = self._clock.now()
        since = now if self._looked_at is None else self._looked_at
        self._looked_at = now
        with self._lock:
            jobs = list(self._jobs.values())
        entries = []
        for job in jobs:
            if self._stop.is_set():  # stopping: a scan of 10,000s of jobs would delay the stop
                return 0
            for at in self._instants(since, now):
                view = job.timeline.view(at)
                status = view.status
                if status == self._published.get(job.job_id, status):
                    continue
                self._published[job.job_id] = status
                detail = job.describe(at)
                entries.append(self._entry(job, detail, at))
                if view.blocks_queue:
                    entries.append(self._entry(job, detail, at, QUEUE_BLOCKED, [job.arn, job.job_queue.arn]))
                if status in TERMINAL_STATUSES:
                    with self._lock:
                        self._jobs.pop(job.job_id, None)
                        self._published.pop(job.job_id, None)
                    break
        entries.sort(key=lambda entry: entry["Time"])
        put = 0
        for start in range(0, len(entries), _PUT_EVENTS_LIMIT):
            if self._stop.is_set():  # stopping: the rest would only delay the emulator's stop
                break
            batch = entries[start : start + _PUT_EVENTS_LIMIT]
            self._events.put_events(Entries=batch)
            put += len(batch)
        self.published += put
        return put

    def _instants(self, since: float, now: float) -> list[float]:
        """The instants looked at, from just after `since` to `now`: every `resolution` seconds,
        at most 2,000 of them (a clock jumped further only shows where the jobs are at `now`)."""
        steps = int((now - since) / self._resolution)
        if steps <= 0 or steps > 2000:
            return [now]
        return [since + self._resolution * (i + 1) for i in range(steps)] + [now]

    def _entry(
        self,
        job: EmulatedJob,
        detail: dict[str, Any],
        at: float,
        detail_type: str = STATE_CHANGE,
        resources: list[str] | None = None,
    ) -> dict[str, Any]:
        return {
            "Source": "aws.batch",
            "DetailType": detail_type,
            "Detail": json.dumps(detail),
            "Resources": resources or [job.arn],
            "Time": datetime.fromtimestamp(at, tz=UTC),
        }

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.publish_changes()
            except Exception:
                log.exception("emulator: publishing Batch job events failed")
