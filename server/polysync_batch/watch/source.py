"""Where a run's state came from and what the hub did with it (defined with the port, in
service/ports.py; named here for the watch machinery)."""

from polysync_batch.service.ports import Outcome, Source

__all__ = ["Outcome", "Source"]
