"""The Python feed helper, `follow_changes`, against the real server on the emulator, with the
server process killed (SIGKILL) and started again in the middle (tests/live_feed_stack.py: the
emulator stays up, so its jobs go on). What the helper handed out is checked against the jobs
the emulator holds.

SPEC §12: without a history table the history lives in the process, so the killed process's
cursor is CURSOR_EXPIRED for the new one and the helper relists (a `relist` event, then a
snapshot); with the table (what `polysync-batch serve` gives its demo platform) the cursor
outlives the process and the helper resumes from it. Either way it misses nothing, not even a
run that ended while no server ran (after a relist the helper reads it: BatchGetPipelineRuns)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import grpc
import polysync_platform_client as client
import pytest
from polysync.platform.v1 import platform_service_pb2 as pb

from tests.live_feed_stack import FeedStack

ROOT = Path(__file__).resolve().parents[2]
TERMINAL = {"SUCCEEDED", "FAILED"}
FAST = client.ReconnectPolicy(initial_backoff=0.2, max_backoff=1.0, max_reconnects=60)


class Follower:
    """follow_changes on a thread, keeping every event it hands out."""

    def __init__(self, target: str) -> None:
        self.client = client.connect(target, policy=FAST)
        self.events: list[client.FeedEvent] = []
        self.reconnects: list[tuple[int, BaseException]] = []
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        feed = self.client.follow_changes(on_reconnect=lambda n, delay, error: self.reconnects.append((n, error)))
        try:
            for event in feed:
                with self._lock:
                    self.events.append(event)
                if self._stop.is_set():
                    return  # leaving the loop closes the feed
        except BaseException as error:  # kept for the test's assertions
            self.error = error

    def snapshot(self) -> list[client.FeedEvent]:
        with self._lock:
            return list(self.events)

    def changes(self) -> list[client.FeedEvent]:
        return [e for e in self.snapshot() if e.kind == client.FeedEvent.CHANGE]

    def last_status(self) -> dict[str, str]:
        return {e.run.run_id: e.run.native_status for e in self.changes() if e.run is not None}

    def await_(self, condition, what: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.error is None, f"the feed ended while waiting for {what}: {self.error}"
            assert time.monotonic() < deadline, f"no {what} within {timeout} s; events: {self.snapshot()[-10:]}"
            time.sleep(0.1)

    def stop(self) -> None:
        self._stop.set()  # the next event (a heartbeat at the latest, every 2 s) ends the loop
        self._thread.join(15)
        self.client.close()


def submit(target: str, seconds: int) -> str:
    with client.connect(target) as c:
        response = c.stub.ExecutePipeline(
            pb.ExecutePipelineRequest(pipeline="hello", parameters={"duration_seconds": str(seconds)}),
            timeout=30,
            wait_for_ready=True,  # the restarted server may still be binding its port
        )
    return response.run.run_id


@pytest.mark.parametrize("history", [False, True], ids=["in-process history: relist", "history table: resume"])
def test_follow_changes_across_a_killed_server(history):
    with FeedStack(history=history) as stack:
        follower = Follower(stack.address)
        try:
            follower.await_(
                lambda: any(e.kind == client.FeedEvent.SNAPSHOT_COMPLETE for e in follower.snapshot()), "snapshot"
            )
            # Runs that go on across the kill, and one that ends while no server runs: with the table
            # the resumed feed has its change; without, a relist's snapshot lists only runs in
            # flight, and the new server's discovery (jobs created in the last minute) or the
            # helper's read of what the snapshot does not list hands it out.
            runs = [submit(stack.address, 12) for _ in range(3)]
            ends_while_down = submit(stack.address, 0)
            runs.append(ends_while_down)
            follower.await_(lambda: set(runs) <= set(follower.last_status()), "change of every run before the kill")
            before_kill = follower.last_status()
            killed_at = time.monotonic()
            stack.kill()
            deadline = time.monotonic() + 60
            while stack.jobs().get(ends_while_down) not in TERMINAL:  # it ends while no server runs
                assert time.monotonic() < deadline, stack.jobs()
                time.sleep(0.2)
            stack.start()
            print(f"server down for {time.monotonic() - killed_at:.1f} s; states handed out before: {before_kill}")
            after = [submit(stack.address, 1) for _ in range(2)]
            runs += after
            follower.await_(
                lambda: all(follower.last_status().get(r) in TERMINAL for r in runs),
                "terminal state of every run",
                timeout=120,
            )
        finally:
            follower.stop()
        held = stack.jobs()

    events = follower.snapshot()
    print(f"{len(events)} events, reconnects {[(n, type(e).__name__) for n, e in follower.reconnects]}")
    print("relists:", [client.reason(e.error) for e in events if e.kind == client.FeedEvent.RELIST and e.error])
    relists = [e for e in events if e.kind == client.FeedEvent.RELIST]
    assert follower.reconnects, "the kill was not seen as a disconnect"
    if history:
        assert relists == [], "with a history table the cursor outlives the process (SPEC §12)"
    else:
        assert len(relists) == 1, relists
        assert relists[0].error is not None and client.reason(relists[0].error) == "CURSOR_EXPIRED"
        assert relists[0].error.code() == grpc.StatusCode.FAILED_PRECONDITION
        # The relist's snapshot cannot list the run that ended while no server ran: the helper
        # read it (BatchGetPipelineRuns) and handed out how it ended, before snapshot_complete.
        after = events[events.index(relists[0]) :]
        complete = next(i for i, e in enumerate(after) if e.kind == client.FeedEvent.SNAPSHOT_COMPLETE)
        read = {e.run.run_id: e.run.native_status for e in after[:complete] if e.version == 0 and e.run is not None}
        assert read.get(ends_while_down) == held[ends_while_down], (read, ends_while_down)
    # Nothing handed out twice with the same version: per run, versions only increase (between
    # relists: a relist starts the numbering over).
    epoch = 0
    versions: dict[tuple[int, str], list[int]] = defaultdict(list)
    for e in events:
        if e.kind == client.FeedEvent.RELIST:
            epoch += 1
        elif e.kind == client.FeedEvent.CHANGE and e.run is not None:
            versions[(epoch, e.run.run_id)].append(e.version)
    for key, seen in versions.items():
        assert seen == sorted(set(seen)), (key, seen)
    # Against what AWS (the emulator) holds: every job of the queue was handed out, and the
    # last state handed out of each is the one the emulator has.
    assert set(held) == set(runs)
    assert follower.last_status() == held, (follower.last_status(), held)
    assert all(status in TERMINAL for status in held.values())
    # Heartbeats and snapshot ends close their message: each carries the message's cursor.
    assert all(e.cursor for e in events if e.kind in (client.FeedEvent.HEARTBEAT, client.FeedEvent.SNAPSHOT_COMPLETE))


def test_a_restarted_caller_learns_how_the_runs_it_had_in_flight_ended():
    """An orchestrator restarted without a cursor (or whose cursor expired) starts the helper with
    the runs its own store has in flight: the snapshot lists only runs in flight now, so the
    helper reads the others and hands out how each ended, or that the server knows it no more."""
    with FeedStack(history=False) as stack:
        ended = submit(stack.address, 0)
        deadline = time.monotonic() + 60
        while stack.jobs().get(ended) not in TERMINAL:
            assert time.monotonic() < deadline, stack.jobs()
            time.sleep(0.2)
        unknown = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
        events: list[client.FeedEvent] = []
        with client.connect(stack.address, policy=FAST) as c:
            for event in c.follow_changes(in_flight=[ended, unknown], timeout=60):
                events.append(event)
                if event.kind == client.FeedEvent.SNAPSHOT_COMPLETE:
                    break
        held = stack.jobs()
    told = {(e.kind, e.run.run_id, e.version, e.run.native_status) for e in events if e.run is not None}
    assert (client.FeedEvent.CHANGE, ended, 0, held[ended]) in told, events
    assert (client.FeedEvent.GONE, unknown, 0, "") in told, events
    assert held[ended] in TERMINAL


def test_the_feed_example_prints_changes_with_their_cursor():
    """clients/python/examples/follow_changes.py (quoted in the client's README) against a live
    server: a run's changes, each with a cursor; Ctrl-C prints the cursor to resume from."""
    example = ROOT / "clients" / "python" / "examples" / "follow_changes.py"
    with FeedStack(history=False) as stack:
        process = subprocess.Popen(
            [sys.executable, str(example), stack.address], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            assert first.startswith("snapshot_complete cursor "), first
            run_id = submit(stack.address, 0)
            lines: list[str] = []
            deadline = time.monotonic() + 60
            while not any(line.startswith(f"{run_id} ") and " SUCCEEDED " in line for line in lines):
                assert time.monotonic() < deadline, lines
                lines.append(process.stdout.readline())
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=20)
        finally:
            process.kill()
    assert process.returncode == 0, err
    changes = [line.split() for line in lines if line.startswith(f"{run_id} ")]
    assert [c[2] for c in changes][-1] == "SUCCEEDED"
    assert all(c[1].startswith("v") and c[3] == "cursor" and c[4] for c in changes), changes
    resume = out.strip().splitlines()[-1].split()
    assert resume[:5] == ["resume", "with:", "python", "follow_changes.py", stack.address] and resume[5], out
