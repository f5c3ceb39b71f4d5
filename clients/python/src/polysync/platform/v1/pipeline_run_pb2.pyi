import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_STATUS_UNSPECIFIED: _ClassVar[RunStatus]
    RUN_STATUS_RUNNING: _ClassVar[RunStatus]
    RUN_STATUS_SUCCEEDED: _ClassVar[RunStatus]
    RUN_STATUS_FAILED: _ClassVar[RunStatus]
    RUN_STATUS_CANCELLED: _ClassVar[RunStatus]
RUN_STATUS_UNSPECIFIED: RunStatus
RUN_STATUS_RUNNING: RunStatus
RUN_STATUS_SUCCEEDED: RunStatus
RUN_STATUS_FAILED: RunStatus
RUN_STATUS_CANCELLED: RunStatus

class PipelineRun(_message.Message):
    __slots__ = ("run_id", "platform", "pipeline", "pipeline_revision", "job_name", "job_queue", "status", "native_status", "status_reason", "exit_code", "message", "console_url", "logs_url", "log_stream_name", "create_time", "start_time", "stop_time", "parameters", "share_identifier", "scheduling_priority", "attempts", "array", "warnings", "terminal", "pipeline_arn", "log_group_name")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_REVISION_FIELD_NUMBER: _ClassVar[int]
    JOB_NAME_FIELD_NUMBER: _ClassVar[int]
    JOB_QUEUE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NATIVE_STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CONSOLE_URL_FIELD_NUMBER: _ClassVar[int]
    LOGS_URL_FIELD_NUMBER: _ClassVar[int]
    LOG_STREAM_NAME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    STOP_TIME_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    SHARE_IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    SCHEDULING_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ARRAY_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    TERMINAL_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_ARN_FIELD_NUMBER: _ClassVar[int]
    LOG_GROUP_NAME_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    platform: str
    pipeline: str
    pipeline_revision: int
    job_name: str
    job_queue: str
    status: RunStatus
    native_status: str
    status_reason: str
    exit_code: int
    message: str
    console_url: str
    logs_url: str
    log_stream_name: str
    create_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    stop_time: _timestamp_pb2.Timestamp
    parameters: _containers.ScalarMap[str, str]
    share_identifier: str
    scheduling_priority: int
    attempts: int
    array: ArrayJobStatus
    warnings: _containers.RepeatedScalarFieldContainer[str]
    terminal: bool
    pipeline_arn: str
    log_group_name: str
    def __init__(self, run_id: _Optional[str] = ..., platform: _Optional[str] = ..., pipeline: _Optional[str] = ..., pipeline_revision: _Optional[int] = ..., job_name: _Optional[str] = ..., job_queue: _Optional[str] = ..., status: _Optional[_Union[RunStatus, str]] = ..., native_status: _Optional[str] = ..., status_reason: _Optional[str] = ..., exit_code: _Optional[int] = ..., message: _Optional[str] = ..., console_url: _Optional[str] = ..., logs_url: _Optional[str] = ..., log_stream_name: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stop_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., parameters: _Optional[_Mapping[str, str]] = ..., share_identifier: _Optional[str] = ..., scheduling_priority: _Optional[int] = ..., attempts: _Optional[int] = ..., array: _Optional[_Union[ArrayJobStatus, _Mapping]] = ..., warnings: _Optional[_Iterable[str]] = ..., terminal: _Optional[bool] = ..., pipeline_arn: _Optional[str] = ..., log_group_name: _Optional[str] = ...) -> None: ...

class ArrayJobStatus(_message.Message):
    __slots__ = ("size", "index", "status_counts")
    class StatusCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    SIZE_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STATUS_COUNTS_FIELD_NUMBER: _ClassVar[int]
    size: int
    index: int
    status_counts: _containers.ScalarMap[str, int]
    def __init__(self, size: _Optional[int] = ..., index: _Optional[int] = ..., status_counts: _Optional[_Mapping[str, int]] = ...) -> None: ...
