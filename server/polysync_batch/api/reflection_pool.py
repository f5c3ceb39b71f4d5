"""The descriptor pool server reflection reads: protobuf's default pool, plus look-ups of a
method by its full name (`pkg.Service.Method`), which the upb-based pool of protobuf 7 does not
answer — without it `grpcurl describe pkg.Service.Method` and ghz's `--call` fail."""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pool


class MethodAwarePool:
    def __init__(self, pool: Any = None) -> None:
        self._pool = pool or descriptor_pool.Default()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    def FindFileContainingSymbol(self, symbol: str) -> Any:
        try:
            return self._pool.FindFileContainingSymbol(symbol)
        except KeyError:
            service, _, method = symbol.rpartition(".")
            try:
                descriptor = self._pool.FindServiceByName(service)
            except KeyError:
                descriptor = None
            if descriptor is None or method not in descriptor.methods_by_name:
                raise
            return descriptor.file
