import pytest

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
    async with serve(demo_platforms(emulator, None, FAST_WATCH)) as served:
        yield served
