from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CheckResult(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHECK_RESULT_UNSPECIFIED: _ClassVar[CheckResult]
    CHECK_RESULT_ALLOWED: _ClassVar[CheckResult]
    CHECK_RESULT_DENIED: _ClassVar[CheckResult]
    CHECK_RESULT_UNVERIFIED: _ClassVar[CheckResult]
    CHECK_RESULT_ERROR: _ClassVar[CheckResult]
CHECK_RESULT_UNSPECIFIED: CheckResult
CHECK_RESULT_ALLOWED: CheckResult
CHECK_RESULT_DENIED: CheckResult
CHECK_RESULT_UNVERIFIED: CheckResult
CHECK_RESULT_ERROR: CheckResult

class PermissionCheck(_message.Message):
    __slots__ = ("permission", "result", "detail")
    PERMISSION_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    permission: str
    result: CheckResult
    detail: str
    def __init__(self, permission: _Optional[str] = ..., result: _Optional[_Union[CheckResult, str]] = ..., detail: _Optional[str] = ...) -> None: ...

class JobQueueStatus(_message.Message):
    __slots__ = ("name", "arn", "exists", "state", "status", "status_reason", "scheduling_policy_arn")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARN_FIELD_NUMBER: _ClassVar[int]
    EXISTS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    SCHEDULING_POLICY_ARN_FIELD_NUMBER: _ClassVar[int]
    name: str
    arn: str
    exists: bool
    state: str
    status: str
    status_reason: str
    scheduling_policy_arn: str
    def __init__(self, name: _Optional[str] = ..., arn: _Optional[str] = ..., exists: _Optional[bool] = ..., state: _Optional[str] = ..., status: _Optional[str] = ..., status_reason: _Optional[str] = ..., scheduling_policy_arn: _Optional[str] = ...) -> None: ...
