"""The pure timeline model: states at exact instants, no server, no sleeping."""

from collections.abc import Sequence

import pytest
from polysync_batch.emulator import Lifecycle
from polysync_batch.emulator.lifecycle import (
    DEPENDENCY_FAILED,
    ESSENTIAL_CONTAINER_EXITED,
    FAILED,
    PENDING,
    RUNNABLE,
    RUNNING,
    STARTING,
    SUBMITTED,
    SUCCEEDED,
    TIMED_OUT,
    ArrayTimeline,
    JobTimeline,
)

ONE_SECOND_EACH = Lifecycle(submitted=1, pending=1, runnable=1, starting=1, running=1)
T0 = 1_000.0


def run(
    exit_code: int = 0,
    run_seconds: float = 1,
    timeout_seconds: float | None = None,
    depends_on: Sequence[JobTimeline] = (),
) -> JobTimeline:
    return JobTimeline(
        T0,
        ONE_SECOND_EACH,
        run_seconds=run_seconds,
        exit_code=exit_code,
        timeout_seconds=timeout_seconds,
        depends_on=depends_on,
    )


def test_states_follow_the_lifecycle_durations() -> None:
    job = run()
    observed = [job.view(T0 + offset).status for offset in (0, 1, 2, 3, 4, 4.99, 5, 100)]
    assert observed == [SUBMITTED, PENDING, RUNNABLE, STARTING, RUNNING, RUNNING, SUCCEEDED, SUCCEEDED]


def test_timestamps_and_exit_code_are_set_as_the_job_progresses() -> None:
    job = run(run_seconds=2)
    assert job.view(T0 + 3.5).placed and job.view(T0 + 3.5).started_at is None
    running = job.view(T0 + 4.5)
    assert (running.started_at, running.stopped_at, running.exit_code) == (T0 + 4, None, None)
    done = job.view(T0 + 6)
    assert (done.status, done.started_at, done.stopped_at) == (SUCCEEDED, T0 + 4, T0 + 6)
    assert (done.exit_code, done.reason) == (0, ESSENTIAL_CONTAINER_EXITED)


def test_a_non_zero_exit_code_fails_the_job() -> None:
    done = run(exit_code=3).view(T0 + 10)
    assert (done.status, done.exit_code, done.reason) == (FAILED, 3, ESSENTIAL_CONTAINER_EXITED)


def test_terminate_while_runnable_fails_without_exit_code_and_stays_failed() -> None:
    job = run()
    assert job.stop(T0 + 2.5, "Cancelled by Polysync", cancel_only=False)
    for at in (T0 + 2.5, T0 + 5, T0 + 1_000):
        view = job.view(at)
        assert (view.status, view.reason, view.exit_code) == (FAILED, "Cancelled by Polysync", None)
        assert view.stopped_at == T0 + 2.5 and view.started_at is None and not view.placed
    assert job.view(T0 + 2).status == RUNNABLE  # history before the request is unchanged


def test_terminate_while_running_keeps_started_at_and_reason() -> None:
    job = run(run_seconds=10)
    assert job.stop(T0 + 6, "Terminated by test", cancel_only=False)
    view = job.view(T0 + 100)
    assert (view.status, view.reason, view.exit_code) == (FAILED, "Terminated by test", None)
    assert (view.started_at, view.stopped_at, view.placed) == (T0 + 4, T0 + 6, True)


def test_stopping_a_finished_job_changes_nothing() -> None:
    job = run()
    assert not job.stop(T0 + 50, "too late", cancel_only=False)
    assert job.view(T0 + 60).status == SUCCEEDED


def test_cancel_only_affects_jobs_that_have_not_started() -> None:
    starting = run()
    assert not starting.stop(T0 + 3.5, "cancel", cancel_only=True)
    assert starting.view(T0 + 10).status == SUCCEEDED
    pending = run()
    assert pending.stop(T0 + 1.5, "cancel", cancel_only=True)
    assert (pending.view(T0 + 10).status, pending.view(T0 + 10).reason) == (FAILED, "cancel")


def test_timeout_fails_the_attempt() -> None:
    view = run(run_seconds=100, timeout_seconds=2).view(T0 + 7)
    assert (view.status, view.reason, view.stopped_at) == (FAILED, TIMED_OUT, T0 + 6)


def test_a_dependent_job_waits_in_pending_and_then_runs() -> None:
    first = run(run_seconds=5)  # stops at T0 + 9
    second = run(depends_on=[first])
    assert second.view(T0 + 8).status == PENDING
    assert second.view(T0 + 9).status == RUNNABLE
    assert second.view(T0 + 13).status == SUCCEEDED


def test_a_failed_dependency_fails_the_dependent_job() -> None:
    first = run(exit_code=1)  # fails at T0 + 5
    second = run(depends_on=[first])
    assert second.view(T0 + 4).status == PENDING
    view = second.view(T0 + 5)
    assert (view.status, view.reason, view.stopped_at) == (FAILED, DEPENDENCY_FAILED, T0 + 5)


def test_array_parent_aggregates_its_children() -> None:
    children = [run(), run(run_seconds=3)]
    parent = ArrayTimeline(T0, children)
    assert parent.view(T0 + 1.5).status == SUBMITTED  # children PENDING
    assert parent.view(T0 + 2.5).status == PENDING  # children RUNNABLE
    assert parent.view(T0 + 6).status == PENDING  # one child still RUNNING
    assert parent.status_summary(T0 + 6)[SUCCEEDED] == 1
    assert parent.status_summary(T0 + 6)[RUNNING] == 1
    done = parent.view(T0 + 7)
    assert (done.status, done.started_at, done.stopped_at) == (SUCCEEDED, T0 + 4, T0 + 7)


def test_array_parent_fails_if_a_child_fails_and_terminate_reaches_every_child() -> None:
    assert ArrayTimeline(T0, [run(), run(exit_code=2)]).view(T0 + 10).status == FAILED
    children = [run(), run()]
    parent = ArrayTimeline(T0, children)
    assert parent.stop(T0 + 4.5, "Cancelled by Polysync", cancel_only=False)
    assert [c.view(T0 + 10).status for c in children] == [FAILED, FAILED]
    view = parent.view(T0 + 10)
    assert (view.status, view.reason) == (FAILED, "Cancelled by Polysync")


def test_negative_durations_are_rejected() -> None:
    with pytest.raises(ValueError, match="running"):
        Lifecycle(running=-1)
