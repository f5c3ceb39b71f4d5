"""The server's one backoff: how long to wait before retry `attempt` after failures in a row
(the submit retries, the poller after AWS errors, the event consumer after queue errors)."""

from __future__ import annotations

import random
from collections.abc import Callable


def backoff(attempt: int, first: float, cap: float, jitter: Callable[[], float] = random.random) -> float:
    """Before retry `attempt` (1, 2, …): `first` doubling up to `cap`, then scaled by a random
    factor in [0.5, 1.0) so callers that failed together do not retry together. `jitter`
    returns a number in [0, 1) (tests pass a fixed one)."""
    return min(cap, first * 2 ** (max(1, attempt) - 1)) * (0.5 + 0.5 * jitter())
