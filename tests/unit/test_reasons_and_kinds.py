"""domain/errors.py: a reason's status code is the catalogue's, and its kind is chosen from it."""

from __future__ import annotations

import pytest
from google.rpc import error_details_pb2, status_pb2
from polysync_batch.api.chain.errors import encoded_size, to_status
from polysync_batch.domain import errors
from polysync_batch.domain.reasons import CATALOGUE, Reason


@pytest.mark.parametrize("info", CATALOGUE, ids=lambda info: info.reason.value)
def test_every_reason_is_raised_as_the_kind_of_its_catalogue_code(info):
    error = errors.PlatformError(info.reason, "m")
    assert error.code == info.code
    assert type(error).kind_code == info.code
    assert to_status(error).code.name == info.code


def test_a_reason_cannot_be_raised_as_another_kind():
    with pytest.raises(TypeError, match="RUN_NOT_FOUND is sent as NOT_FOUND"):
        errors.Unavailable(Reason.RUN_NOT_FOUND, "m")
    assert isinstance(errors.aws_submit_unsure("m", {}), errors.Unavailable)  # a sub-kind is fine


def test_error_details_stay_under_8_kib_with_a_count_of_what_was_left_out():
    violations = errors.Violations()
    for i in range(5000):
        violations.add(f"run_ids[{i}]" + "x" * 300, "bad " * 200)
    status = to_status(violations.error())
    decoded = status_pb2.Status.FromString(dict(status.trailing_metadata)["grpc-status-details-bin"])
    assert encoded_size(decoded) < 8 * 1024
    info = error_details_pb2.ErrorInfo()
    decoded.details[0].Unpack(info)
    shown = error_details_pb2.BadRequest()
    decoded.details[1].Unpack(shown)
    assert int(info.metadata["omitted_violations"]) + len(shown.field_violations) == 5000
