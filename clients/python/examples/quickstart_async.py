"""The quickstart with asyncio, submitting and waiting in one call: python quickstart_async.py [ADDRESS]"""

import asyncio
import sys

from polysync.platform.v1 import pipeline_run_pb2
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_platform_client import RunEvent, explain_failure
from polysync_platform_client.aio import connect


async def main(address: str) -> None:
    async with connect(address) as client:
        names = [pipeline.name async for pipeline in client.list_pipelines()]
        print("pipelines", " ".join(sorted(names)))

        def show(event: RunEvent) -> None:
            print(event.run.native_status)

        # Submits (with a generated request_id, so retries cannot submit twice) and waits.
        run = await client.execute(
            pb.ExecutePipelineRequest(pipeline="greet", parameters={"name": "Ada"}), timeout=300, on_event=show
        )
        print("finished", pipeline_run_pb2.RunStatus.Name(run.status), run.message)
        print(explain_failure(run), end="")  # empty unless it failed: cause, attempts, advice
        async for line in client.stream_logs(run.run_id, start_from_head=True, timeout=60):
            print("log", line.message)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:50051"))
