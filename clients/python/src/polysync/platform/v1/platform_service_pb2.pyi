import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from polysync.platform.v1 import connection_pb2 as _connection_pb2
from polysync.platform.v1 import pipeline_pb2 as _pipeline_pb2
from polysync.platform.v1 import pipeline_run_pb2 as _pipeline_run_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TestConnectionRequest(_message.Message):
    __slots__ = ("platform", "job_queue")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    JOB_QUEUE_FIELD_NUMBER: _ClassVar[int]
    platform: str
    job_queue: str
    def __init__(self, platform: _Optional[str] = ..., job_queue: _Optional[str] = ...) -> None: ...

class TestConnectionResponse(_message.Message):
    __slots__ = ("ok", "caller_arn", "region", "job_queue", "checks", "platform", "problems")
    OK_FIELD_NUMBER: _ClassVar[int]
    CALLER_ARN_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    JOB_QUEUE_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    caller_arn: str
    region: str
    job_queue: _connection_pb2.JobQueueStatus
    checks: _containers.RepeatedCompositeFieldContainer[_connection_pb2.PermissionCheck]
    platform: str
    problems: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ok: _Optional[bool] = ..., caller_arn: _Optional[str] = ..., region: _Optional[str] = ..., job_queue: _Optional[_Union[_connection_pb2.JobQueueStatus, _Mapping]] = ..., checks: _Optional[_Iterable[_Union[_connection_pb2.PermissionCheck, _Mapping]]] = ..., platform: _Optional[str] = ..., problems: _Optional[_Iterable[str]] = ...) -> None: ...

class ListPipelinesRequest(_message.Message):
    __slots__ = ("platform", "page_size", "page_token", "name_prefix")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    platform: str
    page_size: int
    page_token: str
    name_prefix: str
    def __init__(self, platform: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., name_prefix: _Optional[str] = ...) -> None: ...

class ListPipelinesResponse(_message.Message):
    __slots__ = ("pipelines", "next_page_token")
    PIPELINES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    pipelines: _containers.RepeatedCompositeFieldContainer[_pipeline_pb2.Pipeline]
    next_page_token: str
    def __init__(self, pipelines: _Optional[_Iterable[_Union[_pipeline_pb2.Pipeline, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetPipelineRequest(_message.Message):
    __slots__ = ("platform", "pipeline")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    platform: str
    pipeline: str
    def __init__(self, platform: _Optional[str] = ..., pipeline: _Optional[str] = ...) -> None: ...

class GetPipelineResponse(_message.Message):
    __slots__ = ("pipeline",)
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    pipeline: _pipeline_pb2.Pipeline
    def __init__(self, pipeline: _Optional[_Union[_pipeline_pb2.Pipeline, _Mapping]] = ...) -> None: ...

class ExecutePipelineRequest(_message.Message):
    __slots__ = ("platform", "pipeline", "job_queue", "parameters", "request_id", "share_identifier", "scheduling_priority_override", "array_size", "timeout_seconds", "retry_attempts", "command", "environment", "vcpus", "memory_mib", "gpus", "tags", "propagate_tags", "depends_on")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class EnvironmentEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    JOB_QUEUE_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SHARE_IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    SCHEDULING_PRIORITY_OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    ARRAY_SIZE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RETRY_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    VCPUS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_MIB_FIELD_NUMBER: _ClassVar[int]
    GPUS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    PROPAGATE_TAGS_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    platform: str
    pipeline: str
    job_queue: str
    parameters: _containers.ScalarMap[str, str]
    request_id: str
    share_identifier: str
    scheduling_priority_override: int
    array_size: int
    timeout_seconds: int
    retry_attempts: int
    command: _containers.RepeatedScalarFieldContainer[str]
    environment: _containers.ScalarMap[str, str]
    vcpus: float
    memory_mib: int
    gpus: int
    tags: _containers.ScalarMap[str, str]
    propagate_tags: bool
    depends_on: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, platform: _Optional[str] = ..., pipeline: _Optional[str] = ..., job_queue: _Optional[str] = ..., parameters: _Optional[_Mapping[str, str]] = ..., request_id: _Optional[str] = ..., share_identifier: _Optional[str] = ..., scheduling_priority_override: _Optional[int] = ..., array_size: _Optional[int] = ..., timeout_seconds: _Optional[int] = ..., retry_attempts: _Optional[int] = ..., command: _Optional[_Iterable[str]] = ..., environment: _Optional[_Mapping[str, str]] = ..., vcpus: _Optional[float] = ..., memory_mib: _Optional[int] = ..., gpus: _Optional[int] = ..., tags: _Optional[_Mapping[str, str]] = ..., propagate_tags: _Optional[bool] = ..., depends_on: _Optional[_Iterable[str]] = ...) -> None: ...

class ExecutePipelineResponse(_message.Message):
    __slots__ = ("run", "deduplicated")
    RUN_FIELD_NUMBER: _ClassVar[int]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    run: _pipeline_run_pb2.PipelineRun
    deduplicated: bool
    def __init__(self, run: _Optional[_Union[_pipeline_run_pb2.PipelineRun, _Mapping]] = ..., deduplicated: _Optional[bool] = ...) -> None: ...

class GetPipelineRunRequest(_message.Message):
    __slots__ = ("platform", "run_id")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    platform: str
    run_id: str
    def __init__(self, platform: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class GetPipelineRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _pipeline_run_pb2.PipelineRun
    def __init__(self, run: _Optional[_Union[_pipeline_run_pb2.PipelineRun, _Mapping]] = ...) -> None: ...

class BatchGetPipelineRunsRequest(_message.Message):
    __slots__ = ("platform", "run_ids")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    platform: str
    run_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, platform: _Optional[str] = ..., run_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetPipelineRunsResponse(_message.Message):
    __slots__ = ("runs", "missing_run_ids")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    MISSING_RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[_pipeline_run_pb2.PipelineRun]
    missing_run_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, runs: _Optional[_Iterable[_Union[_pipeline_run_pb2.PipelineRun, _Mapping]]] = ..., missing_run_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListPipelineRunsRequest(_message.Message):
    __slots__ = ("platform", "job_queue", "statuses", "name_prefix", "array_parent_run_id", "page_size", "page_token")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    JOB_QUEUE_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    ARRAY_PARENT_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    platform: str
    job_queue: str
    statuses: _containers.RepeatedScalarFieldContainer[_pipeline_run_pb2.RunStatus]
    name_prefix: str
    array_parent_run_id: str
    page_size: int
    page_token: str
    def __init__(self, platform: _Optional[str] = ..., job_queue: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_pipeline_run_pb2.RunStatus, str]]] = ..., name_prefix: _Optional[str] = ..., array_parent_run_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPipelineRunsResponse(_message.Message):
    __slots__ = ("runs", "next_page_token")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[_pipeline_run_pb2.PipelineRun]
    next_page_token: str
    def __init__(self, runs: _Optional[_Iterable[_Union[_pipeline_run_pb2.PipelineRun, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelPipelineRunRequest(_message.Message):
    __slots__ = ("platform", "run_id", "reason")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    platform: str
    run_id: str
    reason: str
    def __init__(self, platform: _Optional[str] = ..., run_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelPipelineRunResponse(_message.Message):
    __slots__ = ("run", "already_terminal")
    RUN_FIELD_NUMBER: _ClassVar[int]
    ALREADY_TERMINAL_FIELD_NUMBER: _ClassVar[int]
    run: _pipeline_run_pb2.PipelineRun
    already_terminal: bool
    def __init__(self, run: _Optional[_Union[_pipeline_run_pb2.PipelineRun, _Mapping]] = ..., already_terminal: _Optional[bool] = ...) -> None: ...

class WatchPipelineRunRequest(_message.Message):
    __slots__ = ("platform", "run_id")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    platform: str
    run_id: str
    def __init__(self, platform: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class WatchPipelineRunResponse(_message.Message):
    __slots__ = ("run", "sequence", "heartbeat", "stale_since")
    RUN_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    STALE_SINCE_FIELD_NUMBER: _ClassVar[int]
    run: _pipeline_run_pb2.PipelineRun
    sequence: int
    heartbeat: bool
    stale_since: _timestamp_pb2.Timestamp
    def __init__(self, run: _Optional[_Union[_pipeline_run_pb2.PipelineRun, _Mapping]] = ..., sequence: _Optional[int] = ..., heartbeat: _Optional[bool] = ..., stale_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchPipelineRunsRequest(_message.Message):
    __slots__ = ("platform", "run_ids")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    platform: str
    run_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, platform: _Optional[str] = ..., run_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class WatchPipelineRunsResponse(_message.Message):
    __slots__ = ("run", "sequence", "heartbeat", "stale_since")
    RUN_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    STALE_SINCE_FIELD_NUMBER: _ClassVar[int]
    run: _pipeline_run_pb2.PipelineRun
    sequence: int
    heartbeat: bool
    stale_since: _timestamp_pb2.Timestamp
    def __init__(self, run: _Optional[_Union[_pipeline_run_pb2.PipelineRun, _Mapping]] = ..., sequence: _Optional[int] = ..., heartbeat: _Optional[bool] = ..., stale_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StreamPipelineRunLogsRequest(_message.Message):
    __slots__ = ("platform", "run_id", "follow", "start_from_head", "attempt", "array_index")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    START_FROM_HEAD_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    ARRAY_INDEX_FIELD_NUMBER: _ClassVar[int]
    platform: str
    run_id: str
    follow: bool
    start_from_head: bool
    attempt: int
    array_index: int
    def __init__(self, platform: _Optional[str] = ..., run_id: _Optional[str] = ..., follow: _Optional[bool] = ..., start_from_head: _Optional[bool] = ..., attempt: _Optional[int] = ..., array_index: _Optional[int] = ...) -> None: ...

class StreamPipelineRunLogsResponse(_message.Message):
    __slots__ = ("events", "log_stream_name")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    LOG_STREAM_NAME_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[LogEvent]
    log_stream_name: str
    def __init__(self, events: _Optional[_Iterable[_Union[LogEvent, _Mapping]]] = ..., log_stream_name: _Optional[str] = ...) -> None: ...

class LogEvent(_message.Message):
    __slots__ = ("time", "message")
    TIME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    message: str
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message: _Optional[str] = ...) -> None: ...
