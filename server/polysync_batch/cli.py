"""`polysync-batch serve [--config FILE] [--address HOST:PORT]`: parse args → load config →
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

from pydantic import ValidationError

from polysync_batch.api.server import build_server
from polysync_batch.bootstrap import DEMO_PLATFORM, demo_platforms, demo_watch, platforms_from_config
from polysync_batch.config import Config, ConfigError, ServerConfig, exposure_error, load_config
from polysync_batch.observability.logging import configure_logging

log = logging.getLogger("polysync_batch")
# boto3 calls run in this pool, off the event loop; sized for BatchGetPipelineRuns' 10 chunks.
AWS_THREADS = 32


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="polysync-batch", description="Polysync's AWS Batch platform service")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="serve the gRPC API")
    serve_parser.add_argument("--config", help="TOML file (default: $POLYSYNC_BATCH_CONFIG; none: the embedded emulator)")
    serve_parser.add_argument("--address", help="HOST:PORT to listen on (default 127.0.0.1:50051)")
    args = parser.parse_args(argv)
    configure_logging()
    try:
        config = load_config(args.config, os.environ)
        if args.address:
            config = with_address(config, args.address)
        return asyncio.run(serve(config, os.environ))
    except ConfigError as error:
        print(f"polysync-batch: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"polysync-batch: {error}", file=sys.stderr)
        return 1


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
        platforms = demo_platforms(emulator, executor, demo_watch(config.watch))
        log.info("no platform configured: serving the embedded emulator as platform %r (AWS Batch at %s)",
                 DEMO_PLATFORM, emulator.endpoint_url)
    running = await build_server(platforms, config.server, auth=config.auth,
                                 access={name: platform.access for name, platform in config.platforms.items()})
    host = config.server.address.rsplit(":", 1)[0]
    log.info("polysync-batch serving on %s:%d (platforms: %s; default: %s)", host, running.port,
             ", ".join(platforms.names()), platforms.default)
    if running.health_port is not None:
        log.info("health only, plaintext, on %s:%d", config.server.health_address.rsplit(":", 1)[0], running.health_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
        log.info("shutting down: health NOT_SERVING, finishing calls for up to %.0f s",
                 config.server.shutdown_grace_seconds)
    finally:
        await running.stop(config.server.shutdown_grace_seconds)
        executor.shutdown(wait=False, cancel_futures=True)
        if emulator is not None:
            emulator.stop()
    return 0
