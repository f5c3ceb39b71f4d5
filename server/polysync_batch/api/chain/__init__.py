"""The call chain: every RPC's cross-cutting steps, one module each, run in order by one wrapper
per call (runner.py). The order is the list in api/server.py's `steps()`."""
