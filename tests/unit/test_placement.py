"""domain/placement: could any compute environment of a queue ever place a job."""

from polysync_batch.domain.placement import ComputeEnvironment, Requirement, check, instance_sizes


def env(**kw):
    return ComputeEnvironment(name=kw.pop("name", "ce"), type=kw.pop("type", "EC2"), **kw)


def test_above_max_vcpus_is_refused_with_the_most_offered():
    verdict = check(Requirement(vcpus=64), (env(max_vcpus=16, instance_types=("m5",)),))
    assert not verdict.placeable and verdict.largest["largest_vcpus"] == "16"
    assert verdict.largest["largest_memory_mib"] == "65536"  # m5.4xlarge, the largest m5 within 16 vCPUs
    assert "maximum of 16" in verdict.reasons[0]


def test_memory_and_gpus_against_the_instance_types():
    small = env(max_vcpus=256, instance_types=("m5.large", "m5.xlarge"))
    assert not check(Requirement(vcpus=2, memory_mib=32_768), (small,)).placeable
    assert check(Requirement(vcpus=2, memory_mib=16_384), (small,)).placeable
    assert not check(Requirement(vcpus=1, gpus=1), (small,)).placeable
    gpu = env(name="gpu", max_vcpus=256, instance_types=("g5",))
    assert check(Requirement(vcpus=4, gpus=4), (small, gpu)).placeable  # any one environment is enough
    assert not check(Requirement(vcpus=4, gpus=16), (small, gpu)).placeable


def test_optimal_and_unknown_types_never_refuse_on_memory_or_gpus():
    for types in (("optimal",), ("x2iedn.32xlarge",), ()):
        assert check(
            Requirement(vcpus=2, memory_mib=10**7, gpus=8), (env(max_vcpus=256, instance_types=types),)
        ).placeable
    assert not check(Requirement(vcpus=512), (env(max_vcpus=256, instance_types=("optimal",)),)).placeable


def test_fargate_limits():
    fargate = env(type="FARGATE", max_vcpus=256)
    assert check(Requirement(vcpus=16, memory_mib=122_880), (fargate,)).placeable
    assert not check(Requirement(vcpus=32), (fargate,)).placeable
    assert not check(Requirement(vcpus=1, memory_mib=200_000), (fargate,)).placeable
    assert not check(Requirement(vcpus=1, gpus=1), (fargate,)).placeable


def test_unmanaged_environments_are_never_refused():
    assert check(Requirement(vcpus=10_000, gpus=64), (env(type="UNMANAGED"),)).placeable


def test_instance_table():
    assert instance_sizes("c5.2xlarge")[0].memory_mib == 16_384
    assert instance_sizes("r6i.large")[0].memory_mib == 16_384
    assert instance_sizes("p3.8xlarge")[0].gpus == 4
    assert instance_sizes("optimal") is None and instance_sizes("c5.weird") is None
