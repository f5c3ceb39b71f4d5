"""Follows every change of every run of the platform (the run changes feed), printing each with
the cursor to resume from: python follow_changes.py [ADDRESS] [CURSOR]. Ctrl-C stops it and
prints the last cursor: give it back to follow on from there without missing a change."""

import sys

from polysync_platform_client import FeedEvent, connect, explain_failure


def main(address: str, cursor: str) -> None:
    with connect(address) as client:
        try:
            # Without a cursor: first the runs not yet ended, then every change. It resumes from
            # the last cursor if the server restarts, and relists if the cursor has expired.
            for event in client.follow_changes(cursor=cursor):
                if event.kind == FeedEvent.CHANGE and event.run is not None:
                    run = event.run
                    print(run.run_id, f"v{event.version}", run.native_status, "cursor", event.cursor, flush=True)
                    print(explain_failure(run), end="")
                elif event.kind != FeedEvent.HEARTBEAT:
                    print(event.kind, "cursor", event.cursor, flush=True)
                cursor = event.cursor  # handled: store it (a file, a database) to resume from
        except KeyboardInterrupt:
            print("resume with: python follow_changes.py", address, cursor, flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:50051", sys.argv[2] if len(sys.argv) > 2 else "")
