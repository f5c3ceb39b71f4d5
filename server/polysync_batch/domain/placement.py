"""Could any compute environment of a queue ever place a job (SPEC §13)? Pure: the queue's
compute environments and the job's vCPUs, memory and GPUs in, a verdict out.

A job is refused only when every compute environment surely cannot run it: its vCPUs above the
environment's maximum vCPUs, or above/beyond every instance type the environment may launch (for
the instance types this module knows), or outside Fargate's limits. Anything unknown ("optimal",
an instance family this table does not know, a launch template) never refuses: it is a warning
at most.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from polysync_batch.domain.connection import QueueStatus

FARGATE_TYPES = ("FARGATE", "FARGATE_SPOT")
# Fargate task sizes (Amazon ECS "Fargate task CPU and memory"): at most 16 vCPUs and 120 GiB, no GPUs.
FARGATE_MAX_VCPUS = 16.0
FARGATE_MAX_MEMORY_MIB = 122_880
AWS_DOC = "https://docs.aws.amazon.com/batch/latest/userguide/job_stuck_in_runnable.html"


@dataclass(frozen=True)
class InstanceSize:
    vcpus: int
    memory_mib: int
    gpus: int = 0


# The general-purpose families by memory per vCPU (GiB); sizes by vCPUs.
_GIB_PER_VCPU = {"c": 2, "m": 4, "r": 8}
_SIZE_VCPUS = {
    "large": 2,
    "xlarge": 4,
    "2xlarge": 8,
    "4xlarge": 16,
    "8xlarge": 32,
    "9xlarge": 36,
    "12xlarge": 48,
    "16xlarge": 64,
    "18xlarge": 72,
    "24xlarge": 96,
    "32xlarge": 128,
    "48xlarge": 192,
}
_GENERAL = re.compile(r"^([cmr])([4-8])([a-z]*)$")  # c5, m6i, r7g, c6gn, m5d …
# GPU instance types: vCPUs, MiB, GPUs (Amazon EC2 accelerated computing instance specifications).
_GPU_TYPES: dict[str, InstanceSize] = {
    "p3.2xlarge": InstanceSize(8, 62_464, 1),
    "p3.8xlarge": InstanceSize(32, 249_856, 4),
    "p3.16xlarge": InstanceSize(64, 499_712, 8),
    "p4d.24xlarge": InstanceSize(96, 1_179_648, 8),
    "g4dn.xlarge": InstanceSize(4, 16_384, 1),
    "g4dn.2xlarge": InstanceSize(8, 32_768, 1),
    "g4dn.4xlarge": InstanceSize(16, 65_536, 1),
    "g4dn.8xlarge": InstanceSize(32, 131_072, 1),
    "g4dn.12xlarge": InstanceSize(48, 196_608, 4),
    "g4dn.16xlarge": InstanceSize(64, 262_144, 1),
    "g5.xlarge": InstanceSize(4, 16_384, 1),
    "g5.2xlarge": InstanceSize(8, 32_768, 1),
    "g5.4xlarge": InstanceSize(16, 65_536, 1),
    "g5.8xlarge": InstanceSize(32, 131_072, 1),
    "g5.12xlarge": InstanceSize(48, 196_608, 4),
    "g5.16xlarge": InstanceSize(64, 262_144, 1),
    "g5.24xlarge": InstanceSize(96, 393_216, 4),
    "g5.48xlarge": InstanceSize(192, 786_432, 8),
}


def instance_sizes(instance_type: str) -> list[InstanceSize] | None:
    """The sizes an entry of a compute environment's instanceTypes may launch ("m5" is the whole
    family, "m5.large" one size), or None when this table does not know it."""
    if instance_type in _GPU_TYPES:
        return [_GPU_TYPES[instance_type]]
    family, _, size = instance_type.partition(".")
    if not size:
        gpu_family = [s for name, s in _GPU_TYPES.items() if name.split(".")[0] == family]
        if gpu_family:
            return gpu_family
    general = _GENERAL.match(family)
    if general is None:
        return None
    gib = _GIB_PER_VCPU[general[1]]
    if not size:
        return [InstanceSize(v, v * gib * 1024) for v in _SIZE_VCPUS.values()]
    vcpus = _SIZE_VCPUS.get(size)
    return [InstanceSize(vcpus, vcpus * gib * 1024)] if vcpus else None


@dataclass(frozen=True)
class ComputeEnvironment:
    """What DescribeComputeEnvironments says about one environment of a queue."""

    name: str
    type: str  # EC2, SPOT, FARGATE, FARGATE_SPOT; "UNMANAGED" for an unmanaged environment
    state: str = "ENABLED"
    status: str = "VALID"
    max_vcpus: float | None = None
    instance_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueueCapacity:
    """A queue and its compute environments; `environments` is None when they may not be read."""

    queue: QueueStatus
    environments: tuple[ComputeEnvironment, ...] | None
    unreadable: str = ""  # why the environments could not be read


@dataclass(frozen=True)
class Requirement:
    """What one container of the job asks for; None where neither the request nor the
    definition says."""

    vcpus: float | None = None
    memory_mib: int | None = None
    gpus: int | None = None

    def describe(self) -> str:
        parts = [
            f"{self.vcpus:g} vCPUs" if self.vcpus is not None else "",
            f"{self.memory_mib} MiB" if self.memory_mib is not None else "",
            f"{self.gpus} GPUs" if self.gpus else "",
        ]
        return ", ".join(p for p in parts if p) or "nothing"


@dataclass
class Verdict:
    placeable: bool  # False only when every environment surely cannot place it
    largest: dict[str, str] = field(default_factory=dict)  # the most the queue offers, for ErrorInfo
    reasons: list[str] = field(default_factory=list)  # one per environment that cannot place it
    warnings: list[str] = field(default_factory=list)


def check(requirement: Requirement, environments: tuple[ComputeEnvironment, ...]) -> Verdict:
    verdict = Verdict(placeable=True)
    if not environments:
        verdict.warnings.append("the job queue has no compute environment: a job would stay RUNNABLE")
        return verdict
    refused = 0
    most_vcpus = 0.0
    most_memory = 0
    most_gpus = 0
    unknown = False
    for env in environments:
        why, offer = _cannot(requirement, env)
        if offer is None:
            unknown = True
        else:
            most_vcpus, most_memory, most_gpus = (
                max(most_vcpus, offer.vcpus),
                max(most_memory, offer.memory_mib),
                max(most_gpus, offer.gpus),
            )
        if why:
            refused += 1
            verdict.reasons.append(f"{env.name}: {why}")
        if env.state != "ENABLED" or env.status != "VALID":
            verdict.warnings.append(
                f"compute environment {env.name} is {env.state or '?'}/{env.status or '?'}: it places no job now"
            )
    verdict.placeable = refused < len(environments)
    verdict.largest = {
        "largest_vcpus": f"{most_vcpus:g}",
        "largest_memory_mib": str(most_memory),
        "largest_gpus": str(most_gpus),
    }
    if unknown:
        verdict.largest["largest_note"] = "some instance types are not known to the service (e.g. optimal)"
    return verdict


def _cannot(requirement: Requirement, env: ComputeEnvironment) -> tuple[str, InstanceSize | None]:
    """Why this environment can never place the job ("" if it may), and the largest it offers
    (None when unknown)."""
    vcpus, memory, gpus = requirement.vcpus or 0, requirement.memory_mib or 0, requirement.gpus or 0
    cap = env.max_vcpus
    if env.type in FARGATE_TYPES:
        most_vcpus = min(FARGATE_MAX_VCPUS, cap) if cap is not None else FARGATE_MAX_VCPUS
        offer = InstanceSize(int(most_vcpus), FARGATE_MAX_MEMORY_MIB, 0)
        if gpus:
            return "Fargate has no GPUs", offer
        if vcpus > most_vcpus:
            return f"{vcpus:g} vCPUs is above the {most_vcpus:g} it can give a Fargate job", offer
        if memory > FARGATE_MAX_MEMORY_MIB:
            return f"{memory} MiB is above Fargate's {FARGATE_MAX_MEMORY_MIB} MiB", offer
        return "", offer
    sizes: list[InstanceSize] | None = []
    for instance_type in env.instance_types:
        known = instance_sizes(instance_type)
        if known is None:  # "optimal", a family this table does not know: never refuse on it
            sizes = None
            break
        sizes += known
    largest: InstanceSize | None = None
    if sizes:
        fits = [s for s in sizes if cap is None or s.vcpus <= cap] or sizes
        most = max(s.vcpus for s in fits)
        largest = InstanceSize(
            int(min(cap, most)) if cap is not None else most,
            max(s.memory_mib for s in fits),
            max(s.gpus for s in fits),
        )
    if cap is not None and vcpus > cap:
        return f"{vcpus:g} vCPUs is above its maximum of {cap:g} vCPUs", largest or InstanceSize(int(cap), 0, 0)
    if not sizes:
        return "", largest
    # Any size the environment may launch (even above its maximum vCPUs: some allocation
    # strategies go beyond it) that fits the job is enough.
    if any(s.vcpus >= vcpus and s.memory_mib >= memory and s.gpus >= gpus for s in sizes):
        return "", largest
    return (
        f"none of its instance types ({', '.join(env.instance_types)}) has {requirement.describe()}",
        largest,
    )
