"""The run changes feed (SPEC §12): every applied change of every run of a platform's job queues,
numbered in one log, resumable from a cursor. It depends on the watch core only through its
change hook (`listener(run, source, time)`); its sources (discovery, refresh) are wired in
bootstrap.py."""
