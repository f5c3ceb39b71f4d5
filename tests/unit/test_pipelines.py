import pytest
from polysync_batch.domain.pipelines import (
    latest_revisions,
    missing_parameters,
    parse_pipeline_ref,
    placeholders,
    required_parameters,
)


def definition(name, revision, **extra):
    return {"jobDefinitionName": name, "revision": revision, **extra}


def test_latest_revisions_keeps_the_highest_revision_per_name_in_name_order():
    defs = [definition("b", 1), definition("a", 2), definition("a", 7), definition("a", 3), definition("b", 4)]
    latest = latest_revisions(defs)
    assert [(d["jobDefinitionName"], d["revision"]) for d in latest] == [("a", 7), ("b", 4)]


def test_placeholders_in_command_environment_and_other_properties():
    d = definition(
        "x",
        1,
        containerProperties={
            "command": ["run", "Ref::input", "--out=Ref::output"],
            "environment": [{"name": "MODE", "value": "Ref::mode"}, {"name": "PLAIN", "value": "x"}],
        },
        nodeProperties={"nodeRangeProperties": [{"container": {"command": ["Ref::node_arg"]}}]},
        ecsProperties={"taskProperties": [{"containers": [{"command": ["Ref::ecs-arg"]}]}]},
        eksProperties={"podProperties": {"containers": [{"args": ["Ref::eks_arg"]}]}},
        tags={"t": "Ref::not_a_placeholder_location"},
    )
    assert placeholders(d) == ["ecs-arg", "eks_arg", "input", "mode", "node_arg", "output"]


def test_required_parameters_are_placeholders_without_defaults():
    d = definition(
        "greet",
        1,
        parameters={"greeting": "Hello"},
        containerProperties={"command": ["echo", "Ref::greeting", "Ref::name"]},
    )
    assert required_parameters(d) == ["name"]
    assert missing_parameters(d, {}) == ["name"]
    assert missing_parameters(d, {"name": ""}) == []  # an empty value is a value
    assert missing_parameters(d, {"greeting": "Hi"}) == ["name"]


def test_definition_without_placeholders_requires_nothing():
    assert required_parameters(definition("x", 1, containerProperties={"command": ["true"]})) == []


@pytest.mark.parametrize(
    "text,name,revision",
    [
        ("hello", "hello", None),
        ("hello:2", "hello", 2),
        ("arn:aws:batch:eu-west-1:111122223333:job-definition/hello:12", "hello", 12),
        ("arn:aws-cn:batch:cn-north-1:111122223333:job-definition/my_def", "my_def", None),
    ],
)
def test_parse_pipeline_ref(text, name, revision):
    ref = parse_pipeline_ref(text)
    assert (ref.name, ref.revision) == (name, revision)


@pytest.mark.parametrize("text", ["", "has space", "x:0", "x:-1", "a" * 129, "arn:aws:s3:::bucket", "x:1:2"])
def test_parse_pipeline_ref_rejects(text):
    assert parse_pipeline_ref(text) is None
