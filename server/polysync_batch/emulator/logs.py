"""CloudWatch Logs output of emulated containers, written into moto's Logs backend.

Nothing runs, so the output is simulated: the text `echo` would print (including `echo`s inside
`sh -c` scripts, with $VARIABLES expanded), written when a read first sees the job RUNNING and
stamped with the job's real startedAt, plus one emulator line on a non-zero exit.
"""

import shlex
import string
import threading

from moto.logs.models import LogsBackend

from .lifecycle import JobView


def simulated_output(command: list[str], environment: dict[str, str]) -> list[str]:
    """What the container would print, for the `echo` commands the demo definitions use."""
    if command[:2] == ["sh", "-c"] and len(command) > 2:
        script = string.Template(command[2]).safe_substitute(environment)
        segments = [shlex.split(part) for part in script.replace("&&", ";").split(";")]
    else:
        segments = [command]
    return [" ".join(words[1:]) for words in segments if words and words[0] == "echo"]


class ContainerLogs:
    """The log stream of one container job; safe to sync from concurrent requests."""

    def __init__(self, backend: LogsBackend, group: str, stream: str, output: list[str]) -> None:
        self.group = group
        self.stream = stream
        self._backend = backend
        self._output = output
        self._written_output = False
        self._written_exit = False
        self._lock = threading.Lock()

    def sync(self, view: JobView) -> None:
        """Write whatever the job has produced by the instant `view` describes."""
        if not view.placed:
            return
        with self._lock:
            self._backend.ensure_log_group(self.group)
            self._backend.ensure_log_stream(self.group, self.stream)
            if view.started_at is not None and not self._written_output:
                self._put(view.started_at, self._output)
                self._written_output = True
            if view.exit_code and view.stopped_at is not None and not self._written_exit:
                exited = f"[emulator] container exited with code {view.exit_code}"
                self._put(view.stopped_at, [exited])
                self._written_exit = True

    def _put(self, at: float, lines: list[str]) -> None:
        if lines:
            millis = int(at * 1000)
            events = [{"timestamp": millis, "message": line} for line in lines]
            self._backend.put_log_events(self.group, self.stream, events)
