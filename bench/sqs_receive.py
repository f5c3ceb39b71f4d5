"""CPU per SQS call on the event queue's receive path: N ReceiveMessage (10 messages) +
DeleteMessageBatch (10) pairs against the fake endpoint's SQS queue (bench/fake_batch.py
--events), for each variant side by side in one run, in alternating rounds so machine noise
hits every variant alike. CPU is this process's (time.process_time): the fake endpoint runs in
a process of its own. The calls are made one after another in one thread, as one receiver of
the event queue makes them.

    python -m bench.sqs_receive --pairs 300
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.request
from collections.abc import Callable

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config as BotoConfig
from polysync_batch.aws.clients import bound_by_deadline, count_attempts, make_clients
from polysync_batch.aws.wire import CONTENT_TYPE, SqsWire
from polysync_batch.observability.metrics import AwsCallMetrics

from bench.fake_batch import QUEUE_URL
from bench.harness import start, stop

ROUND = 25  # pairs per variant per round


def queue_stats(port: int) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/stats", data=b"{}", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())["queue"]


def botocore_pair(sqs) -> Callable[[], int]:
    """One receive + delete through a boto3 SQS client, as SqsEventQueue made them."""

    def pair() -> int:
        answer = sqs.receive_message(QueueUrl=QUEUE_URL, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = answer.get("Messages") or []
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        sqs.delete_message_batch(QueueUrl=QUEUE_URL, Entries=entries)
        return len(messages)

    return pair


def variants(endpoint: str) -> dict[str, Callable[[], int]]:
    session = boto3.Session(aws_access_key_id="AKIDBENCH", aws_secret_access_key="bench", region_name="us-east-1")

    def product(**extra) -> object:
        """The SQS client exactly as the server builds it (handlers for metrics and deadlines)."""
        clients = make_clients(
            session, region="us-east-1", endpoint_url=endpoint, event_queue=True, metrics=AwsCallMetrics("bench")
        )
        if not extra:
            return clients.sqs
        config = clients.sqs.meta.config.merge(BotoConfig(**extra))
        made = session.client("sqs", region_name="us-east-1", endpoint_url=endpoint, config=config)
        bound_by_deadline(made)
        count_attempts(made, AwsCallMetrics("bench"))
        return made

    bare = session.client("sqs", region_name="us-east-1", endpoint_url=endpoint)
    wire = make_clients(
        session, region="us-east-1", endpoint_url=endpoint, event_queue=True, metrics=AwsCallMetrics("bench")
    ).sqs_wire
    assert isinstance(wire, SqsWire)
    return {
        "botocore (as built, before)": botocore_pair(product()),
        "botocore, parameter_validation off": botocore_pair(product(parameter_validation=False)),
        "botocore, bare client (no handlers of ours)": botocore_pair(bare),
        "sqs_wire (after)": botocore_pair(wire),
        "sqs_wire signing with botocore SigV4Auth": botocore_pair(BotocoreSigned(wire)),
    }


class BotocoreSigned(SqsWire):
    """The same path signing with botocore.auth.SigV4Auth on an AWSRequest, for comparison."""

    def __init__(self, wire: SqsWire) -> None:
        self.__dict__.update(wire.__dict__)
        self._idle = type(wire._idle)()

    def _signed(self, operation: str, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": CONTENT_TYPE, "X-Amz-Target": f"AmazonSQS.{operation}", "x-amzn-query-mode": "true"}
        request = AWSRequest("POST", self._url, data=body, headers=headers)
        SigV4Auth(self._credentials.get_frozen_credentials(), "sqs", self._region).add_auth(request)
        return {**dict(request.headers.items()), "Content-Length": str(len(body)), "Host": self._host}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=300, help="receive + delete pairs per variant")
    args = parser.parse_args()
    rounds = max(1, args.pairs // ROUND)
    # Enough events for every pair to receive 10: all published within ~2 s of the start.
    needed = rounds * ROUND * 10 * 12 + 1000
    fake, port = start(
        "bench.fake_batch", "--jobs", str(needed // 3 + 1), "--start", str(time.time()), "--first", "0",
        "--period", "0.5", "--events",
    )  # fmt: skip
    try:
        time.sleep(3)
        runs = variants(f"http://127.0.0.1:{port}")
        for pair in runs.values():  # warm up: connections, lazy loading
            for _ in range(5):
                pair()
        cpu = dict.fromkeys(runs, 0.0)
        wall = dict.fromkeys(runs, 0.0)
        pairs = dict.fromkeys(runs, 0)
        messages = dict.fromkeys(runs, 0)
        for _ in range(rounds):
            for name, pair in runs.items():
                started, clock = time.process_time(), time.perf_counter()
                for _ in range(ROUND):
                    messages[name] += pair()
                cpu[name] += time.process_time() - started
                wall[name] += time.perf_counter() - clock
                pairs[name] += ROUND
        left = queue_stats(port)
    finally:
        stop(fake)
    base = next(iter(runs))
    for name in runs:
        line = {
            "case": "sqs_receive",
            "variant": name,
            "pairs": pairs[name],
            "messages_per_receive": round(messages[name] / pairs[name], 2),
            "cpu_us_per_call": round(cpu[name] / (2 * pairs[name]) * 1e6, 1),
            "cpu_us_per_message": round(cpu[name] / max(1, messages[name]) * 1e6, 1),
            "wall_ms_per_pair": round(wall[name] / pairs[name] * 1e3, 3),
            "cpu_vs_first": round(cpu[name] / cpu[base], 3),
        }
        print(json.dumps(line), flush=True)
    print(json.dumps({"case": "sqs_receive_queue_left", **left}), flush=True)


if __name__ == "__main__":
    main()
