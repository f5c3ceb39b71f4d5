"""The added latency of caller authentication per call: cached GetPipelineRun (answered from
the watch hub's memory, no AWS call) through servers that differ only in auth, alternated in
rounds in one process so machine noise hits every case alike. Prints one JSON line per case.
"jwt" sends one token on every call (the server verifies it once, then answers from its cache
of verified tokens); "jwt_new_each_call" sends a different token every time (a signature check
per call: the cache's worst case).

    python -m bench.auth_latency --calls 3000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import grpc
import jwt
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc
from polysync_batch.api.server import build_server
from polysync_batch.bootstrap import demo_platforms
from polysync_batch.config import ServerConfig, WatchConfig
from polysync_batch.emulator import Lifecycle, start_emulator

from tests.security_support import AUDIENCE, ISSUER, SCHEDULER_TOKEN, Pki, Signer, auth_config, bearer, write_jwks
from tests.support import on_wire_call

WATCH = WatchConfig(poll_interval_seconds=3600, max_poll_interval_seconds=3600)  # reads stay cached


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3000, help="calls per case")
    parser.add_argument("--round", type=int, default=100, help="calls per case before switching case")
    options = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="bench-auth-"))
    pki, signer = Pki.make(directory / "pki"), Signer("k1")
    jwks = write_jwks(directory / "jwks.json", signer)
    token = signer.token(lifetime=3600)
    with start_emulator(Lifecycle(submitted=0.05, pending=0.05, runnable=0.05, starting=0.05, running=0.1)) as emulator:
        platforms = demo_platforms(emulator, None, WATCH)
        cases = {  # name: (settings, auth, channel credentials, metadata)
            "off": (dict(), None, None, ()),
            "static_token": (dict(), auth_config(), None, bearer(SCHEDULER_TOKEN)),
            "jwt": (dict(), auth_config(jwks), None, bearer(token)),
            "jwt_new_each_call": (dict(), auth_config(jwks), None, None),
            "tls_off": (dict(tls=pki.tls()), None, pki.channel_credentials(), ()),
            "tls_jwt": (dict(tls=pki.tls()), auth_config(jwks), pki.channel_credentials(), bearer(token)),
        }
        servers, stubs, channels = {}, {}, []
        for name, (settings, auth, credentials, _) in cases.items():
            running = await build_server(
                platforms, ServerConfig(address="127.0.0.1:0", health_check_interval_seconds=0, **settings), auth=auth
            )
            target = f"127.0.0.1:{running.port}"
            channel = grpc.aio.secure_channel(target, credentials) if credentials else grpc.aio.insecure_channel(target)
            servers[name], stubs[name] = running, platform_service_pb2_grpc.PlatformServiceStub(channel)
            channels.append(channel)
        run = (await stubs["off"].ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run
        describes = []  # the cached state answers every read: no AWS call is timed
        platforms.get("demo").clients.batch.meta.events.register(
            "before-call.batch.DescribeJobs", lambda **_: describes.append(1)
        )
        on_wire_call(  # and over aws/wire.py, where DescribeJobs goes when it can
            platforms.get("demo").clients.batch_wire,
            lambda operation, params: describes.append(1) if operation == "DescribeJobs" else None,
        )
        request = pb.GetPipelineRunRequest(run_id=run.run_id)
        fresh = iter([bearer(signer.token(lifetime=3600, jti=str(i))) for i in range(options.calls + 50)])
        for name, stub in stubs.items():  # warm up every channel (TLS handshake, HTTP/2 settings)
            for _ in range(50):
                await stub.GetPipelineRun(request, metadata=next(fresh) if cases[name][3] is None else cases[name][3])
        seconds: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(options.calls // options.round):
            for name, stub in stubs.items():
                for _ in range(options.round):
                    metadata = next(fresh) if cases[name][3] is None else cases[name][3]  # minted beforehand
                    started = time.perf_counter()
                    await stub.GetPipelineRun(request, metadata=metadata)
                    seconds[name].append(time.perf_counter() - started)
        assert not describes, f"{len(describes)} DescribeJobs calls: reads were not cached"
        for channel in channels:
            await channel.close()
        for running in servers.values():
            await running.stop(None)
    key = jwt.PyJWK(signer.jwk())
    verify = []
    for _ in range(2000):
        started = time.perf_counter()
        jwt.decode(token, key=key, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER)
        verify.append(time.perf_counter() - started)
    base = {"off": percentile(seconds["off"], 50), "tls": percentile(seconds["tls_off"], 50)}
    for name, values in seconds.items():
        reference = "tls_off" if name.startswith("tls") else "off"
        p50 = percentile(values, 50)
        print(
            json.dumps(
                {
                    "case": name,
                    "calls": len(values),
                    "p50_ms": round(p50 * 1000, 3),
                    "p90_ms": round(percentile(values, 90) * 1000, 3),
                    "p99_ms": round(percentile(values, 99) * 1000, 3),
                    "mean_ms": round(statistics.fmean(values) * 1000, 3),
                    "added_p50_ms_vs_" + reference: round(
                        (p50 - base["tls" if reference == "tls_off" else "off"]) * 1000, 3
                    ),
                }
            )
        )
    print(
        json.dumps(
            {"case": "pyjwt_decode_rs256_only", "calls": len(verify), "p50_ms": round(percentile(verify, 50) * 1000, 3)}
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
