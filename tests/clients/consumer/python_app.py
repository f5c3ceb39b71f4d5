"""A service team's first program against polysync-batch, using only the installed wheel:
python python_app.py ADDRESS. Prints "ok <step>" per step and exits non-zero on the first
failure. Run by python.sh in a clean venv outside the repository."""

import sys
import uuid

import grpc
import polysync_platform_client
from polysync.platform.v1 import pipeline_run_pb2
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_platform_client import connect, missing_parameters, reason, reasons


def check(step: str, condition: bool, detail: object = "") -> None:
    if not condition:
        sys.exit(f"FAIL {step}: {detail}")
    print(f"ok   {step}")


def main(address: str) -> None:
    print("using", polysync_platform_client.__file__, "grpcio", grpc.__version__)
    with connect(address) as client:
        names = [p.name for p in client.list_pipelines(page_size=1, timeout=30)]
        check("list pipelines (paged one at a time)", {"greet", "hello"} <= set(names), names)

        try:
            client.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="greet"), timeout=30)
            check("refused submit", False, "greet without `name` was accepted")
        except grpc.RpcError as error:
            check(
                "refused submit names the missing field",
                reason(error) == reasons.MISSING_PARAMETERS and missing_parameters(error) == ["name"],
                (error.code(), reason(error), missing_parameters(error)),
            )

        request = pb.ExecutePipelineRequest(pipeline="greet", parameters={"name": "Ada"}, request_id=str(uuid.uuid4()))
        first = client.stub.ExecutePipeline(request, timeout=30)
        again = client.stub.ExecutePipeline(request, timeout=30)
        check(
            "resubmit with one request_id is deduplicated",
            again.deduplicated and again.run.run_id == first.run.run_id,
            again,
        )

        states = []
        for event in client.watch_run(first.run.run_id, timeout=120):
            print(f"     {event.run.native_status:<10} heartbeat={event.heartbeat} stale_since={event.stale_since}")
            states.append(event)
        check(
            "watch to the end, stale_since on every event",
            states[-1].run.terminal
            and states[-1].run.status == pipeline_run_pb2.RUN_STATUS_SUCCEEDED
            and all(hasattr(e, "stale_since") for e in states),
            [e.run.native_status for e in states],
        )

        long = client.stub.ExecutePipeline(
            pb.ExecutePipelineRequest(pipeline="hello", parameters={"duration_seconds": "60"}), timeout=30
        ).run
        client.stub.CancelPipelineRun(pb.CancelPipelineRunRequest(run_id=long.run_id), timeout=30)
        last = list(client.watch_run(long.run_id, timeout=60))[-1].run
        check("cancel", last.status == pipeline_run_pb2.RUN_STATUS_CANCELLED, last.status_reason)

        done = client.execute(pb.ExecutePipelineRequest(pipeline="greet", parameters={"name": "Grace"}), timeout=120)
        check("submit and wait", done.terminal and done.status == pipeline_run_pb2.RUN_STATUS_SUCCEEDED, done.message)

        listed = {run.run_id for run in client.list_runs(page_size=1, timeout=30)}
        check("page through runs", {first.run.run_id, long.run_id, done.run_id} <= listed, len(listed))


if __name__ == "__main__":
    main(sys.argv[1])
