from collections.abc import Iterator

import pytest
from polysync_batch.emulator import Emulator, Lifecycle, ManualJobClock, start_emulator

# Long enough per state that a tight DescribeJobs loop sees every one of them even on a busy
# machine (a DescribeJobs call takes a few milliseconds).
FAST = Lifecycle(submitted=0.25, pending=0.25, runnable=0.25, starting=0.25, running=0.25)


@pytest.fixture(scope="session")
def fast_emulator() -> Iterator[Emulator]:
    """Real time, short states: for tests that poll like a client would."""
    with start_emulator(FAST) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def manual_clock() -> ManualJobClock:
    return ManualJobClock()


@pytest.fixture(scope="session")
def manual_emulator(manual_clock: ManualJobClock) -> Iterator[Emulator]:
    """Default lifecycle on a clock the test advances: exact states without sleeping."""
    with start_emulator(clock=manual_clock) as emulator:
        yield emulator
