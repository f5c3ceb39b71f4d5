"""The event queue's executor (aws/event_queue.DaemonThreads): long polls run in daemon threads
that are reused, so the event loop does not wait for a new thread to start on every call."""

import threading
import time

from polysync_batch.aws.event_queue import DaemonThreads


def count_starts(monkeypatch) -> list[str]:
    started: list[str] = []
    original = threading.Thread.start

    def start(self):
        started.append(self.name)
        return original(self)

    monkeypatch.setattr(threading.Thread, "start", start)
    return started


def test_sequential_calls_reuse_one_thread(monkeypatch):
    started = count_starts(monkeypatch)
    executor = DaemonThreads()
    for i in range(50):
        assert executor.submit(lambda i=i: i * 2).result(timeout=5) == i * 2
    assert len(started) == 1, f"{len(started)} threads started for 50 calls one after another"


def test_concurrent_calls_get_threads_of_their_own_and_errors_come_back(monkeypatch):
    started = count_starts(monkeypatch)
    executor = DaemonThreads()
    release = threading.Event()
    blocked = [executor.submit(release.wait, 5) for _ in range(4)]  # four long polls in flight
    quick = executor.submit(lambda: "answered")
    assert quick.result(timeout=5) == "answered"  # not stuck behind the long polls
    release.set()
    assert all(f.result(timeout=5) for f in blocked)
    assert len(started) == 5

    def fail():
        raise ValueError("boom")

    error = executor.submit(fail).exception(timeout=5)
    assert isinstance(error, ValueError)
    assert len(started) == 5  # idle threads took the next calls


def test_idle_threads_end_and_are_daemons():
    executor = DaemonThreads(name="sqs-test", idle_seconds=0.2)
    names = [executor.submit(lambda: threading.current_thread()).result(timeout=5) for _ in range(3)]
    assert all(t.daemon for t in names)
    deadline = time.monotonic() + 5
    while any(t.name == "sqs-test" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [t for t in threading.enumerate() if t.name == "sqs-test"]
    assert executor.submit(lambda: 7).result(timeout=5) == 7  # a new thread after they ended
