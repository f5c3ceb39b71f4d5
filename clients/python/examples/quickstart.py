"""Runs the demo pipeline "greet" and follows it to the end: python quickstart.py [ADDRESS]"""

import sys

import grpc
from polysync.platform.v1 import pipeline_run_pb2
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_platform_client import connect, explain_failure, reason


def main(address: str) -> None:
    with connect(address) as client:
        try:
            response = client.stub.ExecutePipeline(
                pb.ExecutePipelineRequest(pipeline="greet", parameters={"name": "Ada"}), timeout=30
            )
        except grpc.RpcError as error:
            sys.exit(f"execute failed: {error.code().name} {reason(error)}: {error.details()}")
        print("submitted", response.run.run_id)
        # Each new state until the run is terminal; reconnects with backoff if the server restarts.
        for event in client.watch_run(response.run.run_id, timeout=300):
            if not event.heartbeat:
                print(event.run.native_status + (" (stale)" if event.stale_since else ""))
        print("finished", pipeline_run_pb2.RunStatus.Name(event.run.status), event.run.message)
        # Why it failed, if it did: the cause, each attempt (exit code, reason, log stream), advice.
        print(explain_failure(event.run), end="")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:50051")
