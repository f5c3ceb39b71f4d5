"""The cyclic garbage collector runs less often.

A server with 10,000 open watch streams holds hundreds of thousands of long-lived objects, and
each event makes short-lived ones (a Run, its messages, futures). With CPython's default first
threshold (700 allocations) the collector ran every few events, and its older generations were
traversed with every stream's objects in them: about 50 µs of CPU per ingested event at 10,000
streams (bench/event_path.py). Most of what the event path makes is freed by reference counting
at once; the collector only has cycles to find, so it can wait for far more allocations."""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000  # allocations less deallocations before a young-generation collection


def collect_less_often() -> None:
    """Raises the young generation's threshold; the older generations keep theirs (relative)."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
