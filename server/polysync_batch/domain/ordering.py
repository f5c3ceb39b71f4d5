"""Which of two states of one run is the newer one. Events arrive at least once and in any
order, and a poll's answer can race an event that arrived while the call was in flight, so
every source of states is applied only forward (SPEC §11):

- a terminal state is final;
- between two events, the later event `time` wins (AWS stamps whole seconds);
- otherwise (same second, or a state without an event time: a poll, a read, a submit) the
  job's own progress decides: finished attempts first (a retry goes RUNNING → RUNNABLE with
  one more attempt), then the status order SUBMITTED < PENDING < RUNNABLE < STARTING <
  RUNNING < SUCCEEDED/FAILED. An equal progress with a different reason, exit code or array
  progress is newer; an identical state is the same."""

from __future__ import annotations

import enum
from datetime import datetime

from polysync_batch.domain.models import Run

STATUS_ORDER = {"SUBMITTED": 0, "PENDING": 1, "RUNNABLE": 2, "STARTING": 3, "RUNNING": 4, "SUCCEEDED": 5, "FAILED": 5}


class Verdict(enum.Enum):
    NEWER = "newer"  # apply it
    SAME = "same"  # a duplicate: refresh, tell no watcher
    OLDER = "older"  # stale: change nothing


def progress(run: Run) -> tuple[int, int]:
    return run.attempts, STATUS_ORDER.get(run.native_status, 0)


def compare(new: Run, new_time: datetime | None, known: Run, known_time: datetime | None) -> Verdict:
    """`new` (stamped `new_time` when it came from an event) against the `known` state."""
    if new.change_key() == known.change_key():
        return Verdict.SAME
    if known.terminal:
        return Verdict.OLDER
    if new_time is not None and known_time is not None:
        new_second, known_second = int(new_time.timestamp()), int(known_time.timestamp())
        if new_second != known_second:
            return Verdict.NEWER if new_second > known_second else Verdict.OLDER
    return Verdict.NEWER if progress(new) >= progress(known) else Verdict.OLDER
