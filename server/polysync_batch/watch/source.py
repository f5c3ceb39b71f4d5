"""Where a run's state came from, as the hub and the poller tell them apart, and what the hub
did with it."""

import enum


class Source(enum.Enum):
    POLL = "poll"  # the poller's DescribeJobs of watched runs
    READ = "read"  # a Get/BatchGet/subscribe look-up
    SUBMIT = "submit"  # the answer to the service's own SubmitJob
    CANCEL = "cancel"  # the state after the service's own TerminateJob
    EVENT = "event"  # a "Batch Job State Change" event from the platform's SQS queue (watch/events.py)


class Outcome(enum.Enum):
    APPLIED = "applied"  # a new state: cached, and sent to its watchers
    DUPLICATE = "duplicate"  # the state already known: nothing sent
    STALE = "stale"  # older than the state known (or after a terminal one): nothing changed
    UNTRACKED = "untracked"  # an event for a run this hub neither follows nor has cached
