"""The google.rpc.ErrorInfo the server attaches to every failed call."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

ERROR_DOMAIN = "polysync.platform"


def error_info(error: grpc.RpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo of a failed call (reason, domain, metadata), or None if it has none."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None


def error_reason(error: grpc.RpcError) -> str:
    """The stable reason of a failed call, e.g. "RUN_NOT_FOUND"; "" when there is none."""
    info = error_info(error)
    return info.reason if info is not None else ""
