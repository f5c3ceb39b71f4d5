"""`polysync`, the command line of the Polysync platform contract (SPEC §14), for people at a
terminal and for shell scripts: pipelines, submit, get, runs, watch, logs, cancel, changes and
diagnose, with the exit codes of §14 (0 done/SUCCEEDED, 1 FAILED, 2 bad usage, 3 CANCELLED,
4 refused, 5 not reached).

Built on Click rather than argparse: Click reads each option from an environment variable
itself (`envvar=`, shown in `--help`), tells where a value came from (ParameterSource), which is
how a global option may stand before or after the subcommand with the one after winning, gives
every subcommand its own help page, and exits 2 on any usage error as §14 asks. argparse would
need subparsers with SUPPRESS defaults and hand-written environment lookups for the same. rich
draws the tables and the live status line (spinner, elapsed time, status) and knows whether
stdout is a terminal.

Everything goes through the client's public API (connect, PlatformClient.watch_run with the
shared reconnect policy, follow_changes for the §12 feed, stream_logs, list_pipelines,
list_runs, explain_failure, the error helpers).
"""

from polysync_platform_client.cli._app import cli, main

__all__ = ["cli", "main"]
