"""`polysync-batch serve [--config FILE] [--address HOST:PORT] [--log-format json|text]`: parse args → load config →
bootstrap the platforms → serve until SIGTERM. With no platform configured, the embedded
emulator serves a `demo` platform."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import NoReturn

from pydantic import ValidationError

from polysync_batch.api.server import build_server
from polysync_batch.bootstrap import DEMO_PLATFORM, demo_platforms, demo_watch, platforms_from_config
from polysync_batch.collector import collect_less_often
from polysync_batch.config import Config, ConfigError, ServerConfig, exposure_error, load_config
from polysync_batch.malloc import return_large_blocks_to_os
from polysync_batch.observability.logging import LOG_FORMATS, configure_logging
from polysync_batch.observability.tracing import tracing_from_config

log = logging.getLogger("polysync_batch")
# boto3 calls run in this pool, off the event loop; sized for BatchGetPipelineRuns' 10 chunks.
AWS_THREADS = 32


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="polysync-batch", description="Polysync's AWS Batch platform service")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="serve the gRPC API")
    serve_parser.add_argument(
        "--config", help="TOML file (default: $POLYSYNC_BATCH_CONFIG; none: the embedded emulator)"
    )
    serve_parser.add_argument("--address", help="HOST:PORT to listen on (default 127.0.0.1:50051)")
    serve_parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="json",
        help="json: one object per line on stderr (default); text: for people",
    )
    args = parser.parse_args(argv)
    return_large_blocks_to_os()
    collect_less_often()
    configure_logging(log_format=args.log_format)
    try:
        config = load_config(args.config, os.environ)
        if args.address:
            config = with_address(config, args.address)
        code = asyncio.run(serve(config, os.environ))
    except ConfigError as error:
        print(f"polysync-batch: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"polysync-batch: {error}", file=sys.stderr)
        return 1
    exit_without_teardown(code)


def exit_without_teardown(code: int) -> NoReturn:
    """Exit once `serve` has stopped in order (calls finished, streams ended, spans flushed),
    skipping the interpreter's teardown: it frees every cached run and, on the demo, every
    emulated job one object at a time, which took 5 s on a quiet machine after 300 random
    calls and over 20 s on a loaded one, past a pod's termination grace period."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def with_address(config: Config, address: str) -> Config:
    """The config with --address applied, validated like the file's server.address."""
    try:
        server = ServerConfig.model_validate({**config.server.model_dump(), "address": address})
    except ValidationError as error:
        raise ConfigError(f"--address: {error.errors()[0]['msg']}") from None
    config = config.model_copy(update={"server": server})
    if (problem := exposure_error(config)) is not None:  # --address may open what the file kept local
        raise ConfigError(problem)
    return config


async def serve(config: Config, environ: Mapping[str, str]) -> int:
    executor = ThreadPoolExecutor(max_workers=AWS_THREADS, thread_name_prefix="aws")
    emulator = None
    if config.platforms:
        platforms = platforms_from_config(config, environ, executor)
    else:
        from polysync_batch.emulator import start_emulator  # only the demo needs moto's server

        emulator = await asyncio.to_thread(start_emulator)
        await asyncio.to_thread(emulator.seed_small_queue)  # the demo's JOB_CANNOT_BE_PLACED queue (README)
        platforms = demo_platforms(emulator, executor, demo_watch(config.watch), history=True)
        log.info(
            "no platform configured: serving the embedded emulator as platform %r (AWS Batch at %s)",
            DEMO_PLATFORM,
            emulator.endpoint_url,
            extra={"fields": {"event": "emulator_started", "platform": DEMO_PLATFORM}},
        )
    tracing = tracing_from_config(config.tracing, environ)
    if tracing is not None:
        tracing.start()
    running = await build_server(
        platforms,
        config.server,
        config.metrics,
        tracing,
        auth=config.auth,
        access={name: platform.access for name, platform in config.platforms.items()},
    )
    # Before the start-up line: whoever reads it may send SIGTERM at once.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    host = config.server.address.rsplit(":", 1)[0]
    metrics_port = running.metrics.endpoint.port if running.metrics and running.metrics.endpoint else None
    # tests and tools read the port from this message ("serving on HOST:PORT")
    log.info(
        "polysync-batch serving on %s:%d (platforms: %s; default: %s)",
        host,
        running.port,
        ", ".join(platforms.names()),
        platforms.default,
        extra={
            "fields": {
                "event": "server_started",
                "address": f"{host}:{running.port}",
                "platforms": ",".join(platforms.names()),
                "default_platform": platforms.default,
                "metrics_port": metrics_port,
                "tracing": tracing is not None,
            }
        },
    )
    if running.health_port is not None:
        log.info(
            "health only, plaintext, on %s:%d",
            config.server.health_address.rsplit(":", 1)[0],
            running.health_port,
            extra={"fields": {"event": "health_port_started"}},
        )
    try:
        await stop.wait()
        log.info(
            "shutting down: health NOT_SERVING, finishing calls for up to %.0f s",
            config.server.shutdown_grace_seconds,
            extra={"fields": {"event": "server_stopping", "grace_seconds": config.server.shutdown_grace_seconds}},
        )
    finally:
        await running.stop(config.server.shutdown_grace_seconds)
        executor.shutdown(wait=False, cancel_futures=True)
        if emulator is not None:
            emulator.stop()
        if tracing is not None:
            tracing.stop()
    log.info("stopped", extra={"fields": {"event": "server_stopped"}})
    return 0
