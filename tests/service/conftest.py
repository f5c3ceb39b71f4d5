import time

import pytest
from moto.batch.models import batch_backends
from polysync_batch.bootstrap import demo_platforms
from polysync_batch.emulator import Lifecycle, start_emulator

from tests.support import FAST_WATCH, serve

# Fast enough for tests, slow enough that a watch sees the intermediate states.
FAST = Lifecycle(submitted=0.05, pending=0.05, runnable=0.05, starting=0.05, running=0.3)


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(FAST) as running:
        yield running


@pytest.fixture
async def served(emulator):
    # Polling: each test's server would share the module emulator's one event queue, and a
    # stopped server's long polls still in flight take (then hand back) the next test's events.
    # The event-driven demo has tests of its own (test_events.py).
    async with serve(demo_platforms(emulator, None, FAST_WATCH, events=False)) as served:
        yield served


@pytest.fixture
def describe_calls(emulator):
    """The DescribeJobs requests that reached the module emulator's Batch endpoint: when each
    arrived (time.monotonic()) and its job ids."""
    backend = batch_backends[emulator.account_id][emulator.region]
    calls: list[tuple[float, list[str]]] = []
    original = backend.describe_jobs

    def counted(jobs):
        calls.append((time.monotonic(), list(jobs or [])))
        return original(jobs)

    backend.describe_jobs = counted
    yield calls
    del backend.describe_jobs
