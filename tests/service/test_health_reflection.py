"""What grpcurl and load balancers rely on: reflection and grpc.health.v1."""

import asyncio
from dataclasses import replace

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from polysync_batch.bootstrap import demo_platforms
from polysync_batch.service.registry import PlatformRegistry

from tests.support import serve


def describe_over_reflection(target: str) -> tuple[list[str], list[str]]:
    with grpc.insecure_channel(target) as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        services = list(database.get_services())
        service = database.FindFileContainingSymbol("polysync.platform.v1.PlatformService")
        methods = [m.name for m in service.service[0].method]
        # What grpcurl's `describe Service.Method` and ghz's --call ask for.
        by_method = database.FindFileContainingSymbol("polysync.platform.v1.PlatformService.GetPipelineRun")
        assert by_method.name == service.name
    return services, methods


async def test_reflection_describes_the_platform_service(served):
    services, methods = await asyncio.to_thread(describe_over_reflection, served.target)
    assert {"polysync.platform.v1.PlatformService", "grpc.health.v1.Health"} <= set(services)
    assert {"TestConnection", "ExecutePipeline", "WatchPipelineRun", "CancelPipelineRun"} <= set(methods)


async def test_health_reports_the_server_and_each_platform(emulator):
    async with serve(demo_platforms(emulator, None), health_check_interval=30) as served:
        health = health_pb2_grpc.HealthStub(served.channel)
        for service in ("", "polysync.platform.v1.PlatformService", "platform:demo"):
            response = await health.Check(health_pb2.HealthCheckRequest(service=service))
            assert response.status == health_pb2.HealthCheckResponse.SERVING, service
        await served.running.health.shutdown()
        response = await health.Check(health_pb2.HealthCheckRequest(service=""))
        assert response.status == health_pb2.HealthCheckResponse.NOT_SERVING


async def test_a_platform_whose_queue_is_gone_is_not_serving(emulator):
    runtime = demo_platforms(emulator, None).get("demo")
    broken = replace(runtime, info=replace(runtime.info, default_job_queue="no-such-queue"))
    platforms = PlatformRegistry({"demo": broken}, "demo")
    async with serve(platforms, health_check_interval=30) as served:
        health = health_pb2_grpc.HealthStub(served.channel)
        response = await health.Check(health_pb2.HealthCheckRequest(service="platform:demo"))
        assert response.status == health_pb2.HealthCheckResponse.NOT_SERVING


async def test_unknown_symbols_are_still_not_found(served):
    def look_up():
        with grpc.insecure_channel(served.target) as channel:
            database = ProtoReflectionDescriptorDatabase(channel)
            for symbol in ("polysync.platform.v1.PlatformService.NoSuchMethod", "no.such.Service.Method"):
                try:
                    database.FindFileContainingSymbol(symbol)
                except KeyError:
                    continue
                raise AssertionError(f"{symbol} was found")

    await asyncio.to_thread(look_up)
