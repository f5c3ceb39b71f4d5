"""Fails loudly when the moto internals the emulator builds on change.

The emulator subclasses moto's BatchBackend and Job, installs its backend into moto's
process-global registry, patches three BatchResponse actions, writes into moto's Logs backend and
serves moto's WSGI app from its own werkzeug server. Everything it touches is checked here, so a
moto upgrade shows exactly which assumption broke instead of a confusing lifecycle failure.
"""

import inspect
from collections.abc import Callable
from typing import Any

import moto
from moto.batch import models as batch_models
from moto.batch.exceptions import ClientException
from moto.batch.responses import BatchResponse
from moto.core.base_backend import AccountSpecificBackend, BackendDict
from moto.core.models import default_user_config
from moto.core.responses import BaseResponse
from moto.logs.models import LogsBackend
from moto.moto_server import werkzeug_app
from polysync_batch.emulator import Emulator
from polysync_batch.emulator.backend import EmulatedBatchBackend
from polysync_batch.emulator.jobs import EmulatedJob
from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler

PINNED = "5.2.5"


def broke(what: str, module: str) -> str:
    return (
        f"moto {moto.__version__} changed an internal the emulator relies on: {what}. "
        f"Review server/polysync_batch/emulator/{module} before upgrading moto (pinned {PINNED})."
    )


def parameters(function: Callable[..., Any]) -> list[str]:
    return [name for name in inspect.signature(function).parameters if name != "self"]


def require_parameters(function: Callable[..., Any], expected: list[str], module: str) -> None:
    actual = parameters(function)
    assert actual[: len(expected)] == expected, broke(
        f"{function.__qualname__} parameters are {actual}, expected to start with {expected}",
        module,
    )


def test_moto_version_is_the_pinned_one() -> None:
    assert moto.__version__ == PINNED, broke(f"version is {moto.__version__}", "")


def test_job_constructor_and_attributes() -> None:
    """jobs.py: EmulatedJob lets moto's Job.__init__ do ids, ARN, tags and queue membership."""
    require_parameters(
        batch_models.Job.__init__,
        [
            "name",
            "job_def",
            "job_queue",
            "backend",
            "log_backend",
            "container_overrides",
            "eks_properties_override",
            "depends_on",
            "parameters",
            "all_jobs",
            "timeout",
            "array_properties",
            "provided_job_id",
            "tags",
        ],
        "jobs.py",
    )
    source = inspect.getsource(batch_models.Job.__init__)
    for assignment in (
        "self.job_id =",
        "self.job_name =",
        "self.job_definition =",
        "self.job_queue =",
        "self.container_overrides: dict[str, Any] = container_overrides or {}",
        "self.parameters = {**self.job_definition.parameters, **(parameters or {})}",
        "self.depends_on =",
        "self.timeout =",
        "self.backend =",
        "self.arn =",
        "self.job_queue.jobs.append(self)",
        "self._child_jobs",
    ):
        assert assignment in source, broke(f"Job.__init__ no longer has `{assignment}`", "jobs.py")
    # EmulatedJob shadows `status` with a read-only property; moto must only read it.
    assert isinstance(inspect.getattr_static(batch_models.Job, "status"), property), broke(
        "Job.status is no longer a property", "jobs.py"
    )
    assert isinstance(inspect.getattr_static(EmulatedJob, "status"), property)


def test_job_definition_and_queue_attributes() -> None:
    """jobs.py and backend.py read these attributes of moto's models."""
    definition_source = inspect.getsource(batch_models.JobDefinition.__init__)
    for attribute in (
        "name",
        "revision",
        "status",
        "container_properties",
        "parameters",
        "timeout",
        "retry_strategy",
        "propagate_tags",
        "platform_capabilities",
        "arn",
    ):
        assert f"self.{attribute} =" in definition_source, broke(f"JobDefinition has no `{attribute}`", "jobs.py")
    queue_source = inspect.getsource(batch_models.JobQueue.__init__)
    for attribute in ("name", "arn", "jobs"):
        assert f"self.{attribute}" in queue_source, broke(f"JobQueue has no `{attribute}`", "jobs.py")


def test_batch_backend_methods_used_or_overridden() -> None:
    """backend.py overrides five methods (same signatures) and calls several more."""
    overridden = {
        "submit_job": [
            "job_name",
            "job_def_id",
            "job_queue",
            "array_properties",
            "depends_on",
            "container_overrides",
            "eks_properties_override",
            "timeout",
            "parameters",
            "tags",
        ],
        "describe_jobs": ["jobs"],
        "list_jobs": ["job_queue_name", "array_job_id", "job_status", "filters"],
        "terminate_job": ["job_id", "reason"],
        "cancel_job": ["job_id", "reason"],
    }
    for name, expected in overridden.items():
        require_parameters(getattr(batch_models.BatchBackend, name), expected, "backend.py")
        require_parameters(getattr(EmulatedBatchBackend, name), expected, "backend.py")
    called = {
        "get_job_definition": ["identifier"],
        "get_job_queue": ["identifier"],
        "get_job_by_id": ["identifier"],
        "list_tags_for_resource": ["resource_arn"],
        "describe_job_definitions": ["job_def_name", "job_def_list", "status"],
        "__init__": ["region_name", "account_id"],
    }
    for name, expected in called.items():
        require_parameters(getattr(batch_models.BatchBackend, name), expected, "backend.py")
    assert isinstance(inspect.getattr_static(batch_models.BatchBackend, "logs_backend"), property)
    init_source = inspect.getsource(batch_models.BatchBackend.__init__)
    for registry in ("self._jobs: dict[str, Job] = {}", "self._job_definitions"):
        assert registry in init_source, broke(f"BatchBackend lost `{registry}`", "backend.py")
    # moto's own list_jobs provides the JOB_NAME filter (exact and trailing-* prefix) and
    # reads array children from `_child_jobs`.
    list_source = inspect.getsource(batch_models.BatchBackend.list_jobs)
    for needle in ('"JOB_NAME"', 'value.endswith("*")', "_child_jobs"):
        assert needle in list_source, broke(f"BatchBackend.list_jobs lost `{needle}`", "backend.py")


def test_backend_registry_and_response_routing() -> None:
    """backend.py installs its backend with batch_backends[account][region] = backend."""
    assert isinstance(batch_models.batch_backends, BackendDict)
    assert "__setitem__" in vars(AccountSpecificBackend)
    routing = inspect.getsource(inspect.getattr_static(BatchResponse, "batch_backend").fget)
    assert "batch_backends[self.current_account][self.region]" in routing, broke(
        "BatchResponse.batch_backend no longer reads batch_backends[account][region]",
        "backend.py",
    )
    assert default_user_config.get("batch", {}).get("use_docker", True) is not False, broke(
        "batch.use_docker is off, so moto would route to batch_simple instead", "backend.py"
    )


def test_patched_response_actions() -> None:
    """responses.py wraps three BatchResponse actions and reads the request via _get_param."""
    for action in ("submitjob", "listjobs", "describejobdefinitions"):
        method = getattr(BatchResponse, action, None)
        assert callable(method), broke(f"BatchResponse.{action} is gone", "responses.py")
        original = getattr(method, "emulator_original", method)
        assert parameters(original) == [], broke(f"BatchResponse.{action} takes arguments", "responses.py")
    require_parameters(BaseResponse._get_param, ["param_name", "if_none"], "responses.py")
    assert issubclass(ClientException, Exception)


def test_iam_simulation_is_still_missing_from_moto() -> None:
    """iam.py adds SimulatePrincipalPolicy because moto lacks it; if moto grows one, use it."""
    from moto.core.responses import ActionResult
    from moto.iam.responses import IamResponse

    method = getattr(IamResponse, "simulate_principal_policy", None)
    assert method is None or getattr(method, "emulator_patch", False), broke(
        "moto now implements IamResponse.simulate_principal_policy", "iam.py"
    )
    assert callable(ActionResult), broke("moto.core.responses.ActionResult is gone", "iam.py")


def test_account_routing() -> None:
    """emulator.py/seed.py: moto files requests under x-moto-account-id, else the key's owner."""
    source = inspect.getsource(BaseResponse.get_current_account)
    for needle in ('"x-moto-account-id"', "get_account_id_from(self.get_access_key())"):
        assert needle in source, broke(f"get_current_account lost `{needle}`", "seed.py")


def test_logs_backend_methods() -> None:
    """logs.py writes container output straight into moto's Logs backend."""
    require_parameters(LogsBackend.ensure_log_group, ["log_group_name"], "logs.py")
    require_parameters(LogsBackend.ensure_log_stream, ["log_group_name", "log_stream_name"], "logs.py")
    require_parameters(LogsBackend.put_log_events, ["log_group_name", "log_stream_name", "log_events"], "logs.py")


def test_server_pieces() -> None:
    """server.py serves moto's WSGI app from its own werkzeug server."""
    require_parameters(werkzeug_app.DomainDispatcherApplication.__init__, ["create_app"], "server.py")
    assert callable(werkzeug_app.create_backend_app)
    assert issubclass(werkzeug_app.MotoRequestHandler, WSGIRequestHandler)
    require_parameters(ThreadedWSGIServer.__init__, ["host", "port", "app", "handler"], "server.py")
    require_parameters(WSGIRequestHandler.log, ["type", "message"], "server.py")
    require_parameters(BaseWSGIServer.log, ["type", "message"], "server.py")
    require_parameters(BaseWSGIServer.serve_forever, ["poll_interval"], "server.py")


def test_requests_reach_the_emulated_backend(manual_emulator: Emulator) -> None:
    """End to end: a signed request lands in the emulator's account and its backend."""
    batch = manual_emulator.client("batch")
    job_id = batch.submit_job(jobName="contract", jobQueue=manual_emulator.job_queue, jobDefinition="hello")["jobId"]
    backend = batch_models.batch_backends[manual_emulator.account_id][manual_emulator.region]
    assert isinstance(backend, EmulatedBatchBackend)
    assert isinstance(backend.get_job_by_id(job_id), EmulatedJob), broke(
        "SubmitJob did not go through EmulatedBatchBackend.submit_job", "responses.py"
    )


def test_batch_url_map_takes_the_snapshot_path() -> None:
    """responses.py: GetJobQueueSnapshot is added as a URL of moto's Batch app and an action of
    BatchResponse (moto has neither); the app reads moto.batch.urls.url_paths when it is built."""
    from moto.batch import urls

    assert isinstance(urls.url_paths, dict), broke("moto.batch.urls.url_paths is not a dict", "responses.py")
    assert "{0}/v1/describejobs" in urls.url_paths, broke("Batch URL paths changed form", "responses.py")
    action = getattr(BatchResponse, "getjobqueuesnapshot", None)
    assert action is None or hasattr(action, "emulator_original"), broke(
        "BatchResponse now implements getjobqueuesnapshot itself", "responses.py"
    )
