"""An embedded AWS Batch emulator: moto in-process on 127.0.0.1 with a realistic job lifecycle.

    with start_emulator(Lifecycle(running=10)) as emulator:
        batch = emulator.client("batch")
        batch.submit_job(jobName="x", jobQueue=emulator.job_queue, jobDefinition="hello")

Demo knobs (job parameters, from the request or the definition's defaults): `exit_code` (a
non-zero integer makes the job end FAILED with that exit code) and `duration_seconds` (how long
it stays RUNNING).
"""

from .emulator import Emulator, start_emulator
from .job_clock import JobClock, ManualJobClock, SystemJobClock
from .lifecycle import Lifecycle

__all__ = ["JobClock", "Emulator", "Lifecycle", "ManualJobClock", "SystemJobClock", "start_emulator"]
