"""The live status line of `watch` and `submit --wait` on a terminal: a spinner, the elapsed
time, the run's native status and reason (and a note while the stream reconnects)."""

from __future__ import annotations

import time

from polysync.platform.v1 import pipeline_run_pb2
from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text


class StatusLine:
    """A renderable redrawn by rich's Live several times a second, so the spinner turns and the
    elapsed time counts while the watch waits for the next change."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.run: pipeline_run_pb2.PipelineRun | None = None
        self.note = ""
        self.stale = False
        self._started = time.monotonic()
        self._spinner = Spinner("dots", style="cyan")

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        elapsed = int(time.monotonic() - self._started)
        line = Text(no_wrap=True, overflow="ellipsis")  # one line, whatever the terminal's width
        line.append(self.run_id, style="bold")
        line.append(f"  {elapsed // 60}:{elapsed % 60:02d}  ")
        if self.run is not None:
            line.append(self.run.native_status or "?", style="bold yellow")
            if self.run.status_reason:
                line.append(f"  {self.run.status_reason}")
        else:
            line.append("connecting", style="dim")
        if self.stale:
            line.append("  (stale: the server cannot refresh this state)", style="red")
        if self.note:
            line.append(f"  {self.note}", style="dim")
        grid = Table.grid(padding=(0, 1))
        grid.add_row(self._spinner, line)
        yield grid


def live(console: Console, line: StatusLine) -> Live:
    """The Live display of `line`; transient, so the final state printed after it stays alone."""
    return Live(line, console=console, refresh_per_second=10, transient=True)
