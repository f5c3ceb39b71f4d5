"""Where a run's state came from, as the hub and the poller tell them apart."""

import enum


class Source(enum.Enum):
    POLL = "poll"  # the poller's DescribeJobs of watched runs
    READ = "read"  # a Get/BatchGet/subscribe look-up
    SUBMIT = "submit"  # the answer to the service's own SubmitJob
    CANCEL = "cancel"  # the state after the service's own TerminateJob
