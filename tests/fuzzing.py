"""Random requests for every PlatformService method, built from the contract's descriptors, and
the one check that matters for each answer: a deliberate status, never UNKNOWN or INTERNAL, and
no Python internals in the message. Used by the property test (tests/service/test_fuzz.py) and
by `make fuzz` (bench/fuzz.py)."""

from __future__ import annotations

import random
import re

import grpc
from google.protobuf import descriptor as d
from google.protobuf.message import Message
from polysync.platform.v1 import platform_service_pb2 as pb

SERVICE = pb.DESCRIPTOR.services_by_name["PlatformService"]
# Strings a caller plausibly sends, and ones that break naive code.
STRINGS = [
    "",
    "demo",
    "hello",
    "greet",
    "hello:1",
    "hello:999",
    "fan-out",
    "no-such-thing",
    "polysync-demo",
    "arn:aws:batch:us-east-1:123456789012:job-definition/hello:1",
    "a" * 129,
    "x" * 1001,
    " ",
    "\t\n",
    "../../etc/passwd",
    "名前",
    "\u0000",
    "Ref::name",
    "%s%s%n",
    "'; DROP TABLE jobs; --",
    "AKIAABCDEFGHIJKLMNOP",
]
INTS = [0, 1, -1, 2, 99, 100, 101, 999, 1000, 1001, 9999, 10000, 10001, 2**31 - 1, -(2**31)]
BAD_STATUSES = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}
LEAKS = re.compile(r"Traceback|File \"|<class |Error\(|Exception:|\.py\b|line \d+")


def random_message(descriptor: d.Descriptor, rng: random.Random, depth: int = 0) -> Message:
    message = pb.__dict__.get(descriptor.name) or _message_class(descriptor)
    result = message()
    for field in descriptor.fields:
        if rng.random() < 0.4:
            continue  # leave it unset
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            for _ in range(rng.randint(0, 3)):
                key = _scalar(field.message_type.fields_by_name["key"], rng)
                value_field = field.message_type.fields_by_name["value"]
                getattr(result, field.name)[key] = _scalar(value_field, rng)
        elif field.is_repeated:
            for _ in range(rng.choice([0, 1, 2, 3, 101]) if rng.random() < 0.1 else rng.randint(0, 3)):
                _add(result, field, rng, depth)
        else:
            _set(result, field, rng, depth)
    return result


def _message_class(descriptor: d.Descriptor):
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(descriptor)


def _set(message: Message, field: d.FieldDescriptor, rng: random.Random, depth: int) -> None:
    if field.message_type is not None:
        if depth < 2:
            getattr(message, field.name).CopyFrom(random_message(field.message_type, rng, depth + 1))
    else:
        setattr(message, field.name, _scalar(field, rng))


def _add(message: Message, field: d.FieldDescriptor, rng: random.Random, depth: int) -> None:
    if field.message_type is not None:
        if depth < 2:
            getattr(message, field.name).add().CopyFrom(random_message(field.message_type, rng, depth + 1))
    else:
        getattr(message, field.name).append(_scalar(field, rng))


# Fields whose plausible values reach deeper than a lookup failure.
LIKELY = {
    "platform": ["", "demo"],
    "pipeline": ["hello", "greet", "fan-out", "hello:1"],
    "job_queue": ["", "polysync-demo"],
}


def _scalar(field: d.FieldDescriptor, rng: random.Random):
    kind = field.type
    if field.name in LIKELY and rng.random() < 0.8:
        return rng.choice(LIKELY[field.name])
    if kind == d.FieldDescriptor.TYPE_STRING:
        return (
            rng.choice(STRINGS)
            if rng.random() < 0.7
            else "".join(chr(rng.randint(32, 0x2FFF)) for _ in range(rng.randint(0, 40)))
        )
    if kind == d.FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if kind == d.FieldDescriptor.TYPE_ENUM:
        return rng.choice([v.number for v in field.enum_type.values] + [57])  # 57: a value nobody defined
    if kind in (d.FieldDescriptor.TYPE_DOUBLE, d.FieldDescriptor.TYPE_FLOAT):
        return rng.choice([0.0, -1.0, 0.25, 1.0, 4.0, 1e9, float("inf"), float("nan")])
    if kind == d.FieldDescriptor.TYPE_BYTES:
        return rng.randbytes(rng.randint(0, 10))
    value = rng.choice(INTS)
    unsigned = kind in (
        d.FieldDescriptor.TYPE_UINT32,
        d.FieldDescriptor.TYPE_UINT64,
        d.FieldDescriptor.TYPE_FIXED32,
        d.FieldDescriptor.TYPE_FIXED64,
    )
    return abs(value) if unsigned else value


def random_call(rng: random.Random) -> tuple[d.MethodDescriptor, bytes]:
    """A method and the bytes of a request for it: usually a well-formed message, sometimes
    garbage."""
    method = rng.choice(list(SERVICE.methods))
    if rng.random() < 0.05:
        return method, rng.randbytes(rng.randint(1, 64))
    return method, random_message(method.input_type, rng).SerializeToString()


def problem(code: grpc.StatusCode, details: str | None) -> str | None:
    """What is wrong with an answer, or None when it is a deliberate status."""
    if code in BAD_STATUSES:
        return f"{code.name}: {details}"
    if details and LEAKS.search(details):
        return f"{code.name} leaks internals: {details}"
    return None
