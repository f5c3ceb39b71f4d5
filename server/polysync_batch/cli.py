"""`polysync-batch serve [--config FILE] [--address HOST:PORT]`: parse args → load config →
build platforms → serve until SIGTERM. With no platform configured, the embedded emulator
serves a `demo` platform."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import boto3

from polysync_batch.app import ServerSettings, build_server
from polysync_batch.aws.credentials import build_session
from polysync_batch.aws.platform import PlatformInfo
from pydantic import ValidationError

from polysync_batch.config import Config, ConfigError, ServerConfig, WatchConfig, load_config
from polysync_batch.platforms import Platforms, build_runtime
from polysync_batch.watch.poller import WatchSettings

log = logging.getLogger("polysync_batch")
DEMO_PLATFORM = "demo"
# Demo jobs take seconds, so the demo polls faster than the production default.
DEMO_POLL_INTERVAL_SECONDS = 1.0
# boto3 calls run in this pool, off the event loop; sized for BatchGetPipelineRuns' 10 chunks.
AWS_THREADS = 32


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="polysync-batch", description="Polysync's AWS Batch platform service")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="serve the gRPC API")
    serve_parser.add_argument("--config", help="TOML file (default: $POLYSYNC_BATCH_CONFIG; none: the embedded emulator)")
    serve_parser.add_argument("--address", help="HOST:PORT to listen on (default 127.0.0.1:50051)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("botocore", "werkzeug", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
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
    return config.model_copy(update={"server": server})


async def serve(config: Config, environ: Mapping[str, str]) -> int:
    executor = ThreadPoolExecutor(max_workers=AWS_THREADS, thread_name_prefix="aws")
    emulator = None
    if config.platforms:
        platforms = platforms_from_config(config, environ, executor)
    else:
        from polysync_batch.emulator import start_emulator  # only the demo needs moto's server

        emulator = await asyncio.to_thread(start_emulator)
        watch = config.watch
        if "poll_interval_seconds" not in watch.model_fields_set:
            watch = watch.model_copy(update={"poll_interval_seconds": DEMO_POLL_INTERVAL_SECONDS,
                                             "max_poll_interval_seconds": DEMO_POLL_INTERVAL_SECONDS * 5})
        platforms = demo_platforms(emulator, executor, watch_settings(watch), watch.runnable_warning_seconds)
        log.info("no platform configured: serving the embedded emulator as platform %r (AWS Batch at %s)",
                 DEMO_PLATFORM, emulator.endpoint_url)
    settings = ServerSettings(address=config.server.address, reflection=config.server.reflection,
                              max_message_bytes=config.server.max_message_bytes,
                              max_streams_per_caller=config.server.max_streams_per_caller,
                              max_pending_requests=config.server.max_pending_requests)
    running = await build_server(platforms, settings)
    host = config.server.address.rsplit(":", 1)[0]
    log.info("polysync-batch serving on %s:%d (platforms: %s; default: %s)", host, running.port,
             ", ".join(platforms.names()), platforms.default)
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


def platforms_from_config(config: Config, environ: Mapping[str, str], executor: ThreadPoolExecutor) -> Platforms:
    runtimes = {}
    for name, platform in config.platforms.items():
        try:
            session = build_session(platform.auth, region=platform.region, endpoint_url=platform.endpoint_url,
                                    environ=environ)
        except ConfigError as error:  # its keys are relative to the platform
            raise ConfigError(f"platforms.{name}.{error}") from None
        info = PlatformInfo(name=name, region=platform.region, default_job_queue=platform.default_job_queue or "",
                            console_domain=platform.console_domain,
                            runnable_warning_seconds=config.watch.runnable_warning_seconds)
        runtimes[name] = build_runtime(
            info, session, executor, endpoint_url=platform.endpoint_url, retry_mode=platform.retry_mode,
            max_attempts=platform.max_attempts, connect_timeout=platform.connect_timeout_seconds,
            read_timeout=platform.read_timeout_seconds, watch=watch_settings(config.watch))
    return Platforms(runtimes, config.default_platform_name)


def watch_settings(watch: WatchConfig) -> WatchSettings:
    return WatchSettings(
        min_interval_seconds=watch.poll_interval_seconds, max_interval_seconds=watch.max_poll_interval_seconds,
        heartbeat_seconds=watch.heartbeat_seconds, not_found_after_polls=watch.not_found_after_polls,
        describe_jobs_per_second=watch.describe_jobs_per_second)


def demo_platforms(emulator, executor: ThreadPoolExecutor | None, watch: WatchSettings = WatchSettings(),
                   runnable_warning_seconds: float = 600.0, max_attempts: int = 3) -> Platforms:
    """The `demo` platform on the embedded emulator, signed with its dummy credentials."""
    session = boto3.Session(aws_access_key_id=emulator.access_key_id,
                            aws_secret_access_key=emulator.secret_access_key, region_name=emulator.region)
    info = PlatformInfo(name=DEMO_PLATFORM, region=emulator.region, default_job_queue=emulator.job_queue,
                        runnable_warning_seconds=runnable_warning_seconds)
    runtime = build_runtime(info, session, executor, endpoint_url=emulator.endpoint_url, max_attempts=max_attempts,
                            watch=watch)
    return Platforms({DEMO_PLATFORM: runtime}, DEMO_PLATFORM)
