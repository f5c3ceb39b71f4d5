"""Runs the demo pipeline "greet" and follows it to the end: python quickstart.py [ADDRESS]"""

import asyncio
import sys

import grpc
from polysync.platform.v1 import pipeline_run_pb2, platform_service_pb2 as pb, platform_service_pb2_grpc
from polysync_platform_client import error_reason, watch_run


async def main(address: str) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = platform_service_pb2_grpc.PlatformServiceStub(channel)
        try:
            response = await stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="greet", parameters={"name": "Ada"}))
        except grpc.aio.AioRpcError as error:
            sys.exit(f"execute failed: {error.code().name} {error_reason(error)}: {error.details()}")
        print("submitted", response.run.run_id)
        # Each new state until the run is terminal; reconnects if the server restarts.
        async for run in watch_run(stub, response.run.run_id):
            print(run.native_status)
        print("finished", pipeline_run_pb2.RunStatus.Name(run.status), run.message)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:50051"))
