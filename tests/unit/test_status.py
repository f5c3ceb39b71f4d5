import pytest
from polysync_batch.domain.status import (
    RunStatus,
    cancel_reason,
    is_terminal,
    native_statuses_for,
    run_message,
    run_status,
)


@pytest.mark.parametrize("native", ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING"])
def test_active_statuses_map_to_running(native):
    assert run_status(native, "") is RunStatus.RUNNING
    assert not is_terminal(native)


def test_succeeded():
    assert run_status("SUCCEEDED", "Essential container in task exited") is RunStatus.SUCCEEDED
    assert is_terminal("SUCCEEDED")


@pytest.mark.parametrize(
    "reason",
    [
        "Cancelled by Polysync",
        "Cancelled by Polysync: user asked",
        "Terminated by admin",
        "Job Terminated",
    ],
)
def test_failed_with_cancel_marker_is_cancelled(reason):
    assert run_status("FAILED", reason) is RunStatus.CANCELLED


@pytest.mark.parametrize(
    "reason",
    [
        "Essential container in task exited",
        "",
        None,
        "Host EC2 (instance i-0abc) terminated.",
        "cancelled by polysync",  # the match is case-sensitive, like the original provider's
    ],
)
def test_failed_for_other_reasons_is_failed(reason):
    assert run_status("FAILED", reason) is RunStatus.FAILED
    assert is_terminal("FAILED")


def test_unknown_native_status_is_an_error():
    with pytest.raises(ValueError):
        run_status("EXPLODED", "")


def test_cancel_reason_is_exact_with_optional_suffix():
    assert cancel_reason("") == "Cancelled by Polysync"
    assert cancel_reason("  ") == "Cancelled by Polysync"
    assert cancel_reason("superseded") == "Cancelled by Polysync: superseded"


def test_native_statuses_for_filters():
    assert native_statuses_for([]) == ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
    assert native_statuses_for([RunStatus.CANCELLED]) == ("FAILED",)
    assert native_statuses_for([RunStatus.SUCCEEDED, RunStatus.RUNNING]) == (
        "SUBMITTED",
        "PENDING",
        "RUNNABLE",
        "STARTING",
        "RUNNING",
        "SUCCEEDED",
    )


def test_messages_surface_reason_and_exit_code():
    assert (
        run_message(RunStatus.FAILED, "FAILED", "Essential container in task exited", 3)
        == "Failed: Essential container in task exited (exit code 3)"
    )
    assert run_message(RunStatus.FAILED, "FAILED", "", None) == "Failed"
    assert run_message(RunStatus.SUCCEEDED, "SUCCEEDED", "", 0) == "Succeeded (exit code 0)"
    assert run_message(RunStatus.RUNNING, "RUNNABLE", "", None) == "Running (RUNNABLE)"
    assert (
        run_message(RunStatus.CANCELLED, "FAILED", "Cancelled by Polysync", None) == "Cancelled: Cancelled by Polysync"
    )
