import gc

from polysync_batch.collector import YOUNG_THRESHOLD, collect_less_often


def test_the_young_generation_waits_for_more_allocations_and_the_others_keep_theirs():
    before = gc.get_threshold()
    try:
        collect_less_often()
        assert gc.get_threshold() == (YOUNG_THRESHOLD, before[1], before[2])
    finally:
        gc.set_threshold(*before)
