"""What the rendered manifests must agree on with each other, with the image and with the
configuration they carry (deploy-test.sh validates them against the Kubernetes schemas)."""

import json
import re
import tomllib
import types
import typing
from pathlib import Path
from urllib.parse import urlsplit

import dockerfile
import pytest
from polysync_batch.config import Config, load_config
from pydantic import BaseModel

ROOT = Path(__file__).parents[2]
BUILDS = ["deploy/base", "deploy/overlays/production-tls"]
SHUTDOWN_GRACE_DEFAULT = 10.0  # server.shutdown_grace_seconds (SPEC §8)


def port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def parts(objects: dict):
    deployment = objects[("Deployment", "polysync-batch")]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (config_map,) = [o for (kind, _), o in objects.items() if kind == "ConfigMap"]
    config = tomllib.loads(config_map["data"]["config.toml"])
    return deployment, pod, container, config_map, config


@pytest.fixture(params=BUILDS)
def build(request, render):
    return request.param, render(request.param)


def test_the_pod_mounts_the_configmap_where_the_server_reads_it(build):
    _, objects = build
    deployment, pod, container, config_map, _ = parts(objects)
    env = {e["name"]: e["value"] for e in container["env"]}
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    config_volume = next(v for v in volumes.values() if "configMap" in v)
    assert config_volume["configMap"]["name"] == config_map["metadata"]["name"]
    mount = mounts[config_volume["name"]]
    assert f"{mount['mountPath']}" == env["POLYSYNC_BATCH_CONFIG"]
    assert mount["subPath"] in config_map["data"]


def test_non_root_read_only_and_bounded(build):
    _, objects = build
    _, pod, container, _, _ = parts(objects)
    users = [c.value[0] for c in dockerfile.parse_file(str(ROOT / "Dockerfile")) if c.cmd == "USER"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert str(pod["securityContext"]["runAsUser"]) == users[-1]  # the image's own user
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]


def test_termination_grace_covers_the_prestop_sleep_and_the_servers_shutdown_grace(build):
    _, objects = build
    _, pod, container, _, config = parts(objects)
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    grace = config.get("server", {}).get("shutdown_grace_seconds", SHUTDOWN_GRACE_DEFAULT)
    assert pod["terminationGracePeriodSeconds"] > float(command[1]) + grace


def test_probes_use_native_grpc_on_a_port_that_speaks_plaintext_health(build):
    path, objects = build
    _, _, container, _, config = parts(objects)
    server = config["server"]
    if "tls" in server:
        # The kubelet's gRPC probe speaks neither TLS nor tokens: the health-only port.
        probe_port = port(server["health_address"])
        assert path.endswith("production-tls")
    else:
        assert server.get("allow_insecure") is True or "auth" in config
        probe_port = port(server["address"])
    declared = {p["containerPort"] for p in container["ports"]}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == probe_port, probe
    assert probe_port in declared


def test_tls_files_come_from_the_mounted_secret(render):
    _, pod, container, _, config = parts(render("deploy/overlays/production-tls"))
    tls = config["server"]["tls"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    secret_dirs = {
        m["mountPath"]: volumes[m["name"]]["secret"]
        for m in container["volumeMounts"]
        if "secret" in volumes[m["name"]]
    }
    for key in ("cert_file", "key_file", "client_ca_file"):
        directory, name = tls[key].rsplit("/", 1)
        assert directory in secret_dirs, key
        assert name in ("tls.crt", "tls.key", "ca.crt")  # a kubernetes.io/tls Secret's keys


def test_web_identity_reads_the_projected_token_for_sts(build):
    _, objects = build
    _, pod, container, _, config = parts(objects)
    volumes = {v["name"]: v for v in pod["volumes"]}
    tokens = {}
    for mount in container["volumeMounts"]:
        for source in volumes[mount["name"]].get("projected", {}).get("sources", []):
            if "serviceAccountToken" in source:
                token = source["serviceAccountToken"]
                tokens[f"{mount['mountPath']}/{token['path']}"] = token["audience"]
    platforms = config["platforms"]
    assert platforms
    for name, platform in platforms.items():
        auth = platform.get("auth", {})
        while auth.get("mode") != "web_identity" and "source" in auth:
            auth = auth["source"]
        assert auth.get("mode") == "web_identity", name
        assert tokens.get(auth["token_file"]) == "sts.amazonaws.com", name
    assert pod["automountServiceAccountToken"] is False  # the API token is not needed


def test_service_and_servicemonitor_reach_the_metrics_port(build):
    _, objects = build
    _, _, container, _, config = parts(objects)
    container_ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    service = objects[("Service", "polysync-batch")]
    service_ports = {p["name"]: p for p in service["spec"]["ports"]}
    assert container_ports["metrics"] == port(config["metrics"]["address"]) == 9464
    assert container_ports["grpc"] == port(config["server"]["address"])
    for name, service_port in service_ports.items():
        assert container_ports[service_port["targetPort"]] == service_port["port"], name
    monitor = objects[("ServiceMonitor", "polysync-batch")]
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "metrics" and endpoint["path"] == "/metrics"


def test_every_selector_selects_the_pods(build):
    _, objects = build
    deployment, *_ = parts(objects)
    labels = deployment["spec"]["template"]["metadata"]["labels"]

    def selects(selector):
        return selector and all(labels.get(k) == v for k, v in selector.items())

    assert selects(deployment["spec"]["selector"]["matchLabels"])
    assert selects(objects[("Service", "polysync-batch")]["spec"]["selector"])
    assert selects(objects[("PodDisruptionBudget", "polysync-batch")]["spec"]["selector"]["matchLabels"])
    assert selects(objects[("NetworkPolicy", "polysync-batch")]["spec"]["podSelector"]["matchLabels"])
    assert selects(objects[("ServiceMonitor", "polysync-batch")]["spec"]["selector"]["matchLabels"])
    assert deployment["spec"]["replicas"] >= 2  # the PodDisruptionBudget leaves one serving


def test_network_policy_lets_dns_and_aws_out_and_callers_and_prometheus_in(build):
    _, objects = build
    policy = objects[("NetworkPolicy", "polysync-batch")]["spec"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    dns = [rule for rule in policy["egress"] if {p["port"] for p in rule["ports"]} == {53}]
    assert dns and dns[0]["to"][0]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
    assert any(rule["ports"] == [{"port": 443, "protocol": "TCP"}] for rule in policy["egress"])
    allowed = {p["port"] for rule in policy["ingress"] for p in rule["ports"]}
    assert {"grpc", "metrics"} <= allowed


@pytest.mark.parametrize("path", ["deploy/base/config.toml", "deploy/overlays/production-tls/config.toml"])
def test_the_configmaps_toml_is_a_configuration_the_server_accepts(path, tmp_path):
    load_config(str(with_local_token_key(ROOT / path, tmp_path)), {})


def with_local_token_key(path: Path, tmp_path: Path) -> Path:
    """The TOML with `server.token_key_file` (a Secret mounted in the pod, read at load time)
    pointing at a key of the same shape here."""
    text = path.read_text()
    config = tomllib.loads(text)
    mounted = config.get("server", {}).get("token_key_file")
    if mounted is None:
        return path
    key = tmp_path / Path(mounted).name
    key.write_bytes(b"k" * 32)
    local = tmp_path / "config.toml"
    local.write_text(text.replace(f'"{mounted}"', f'"{key}"'))
    return local


def test_config_keys_are_spec_names():
    for path in ("deploy/base/config.toml", "deploy/overlays/production-tls/config.toml"):
        config = tomllib.loads((ROOT / path).read_text())
        assert set(config) <= {"default_platform", "server", "metrics", "platforms", "watch", "auth", "tracing"}
        assert set(config["server"]) <= {
            "address", "allow_insecure", "health_address", "tls", "shutdown_grace_seconds",
            "reflection", "max_message_bytes", "max_streams_per_caller", "max_pending_requests",
            "token_key_file",
        }  # fmt: skip
        assert set(config["metrics"]) == {"address"}
        assert re.fullmatch(r"0\.0\.0\.0:\d+", config["metrics"]["address"])


def unknown_keys(model: type[BaseModel], data: dict, where: str = "") -> list[str]:
    """Keys of `data` that are not fields of `model` (recursively), by their dotted name."""
    unknown = []
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None:
            unknown.append(f"{where}{key}")
            continue
        union = typing.get_origin(field.annotation) in (typing.Union, types.UnionType)
        kinds = typing.get_args(field.annotation) if union else (field.annotation,)
        for kind in kinds:
            if isinstance(kind, type) and issubclass(kind, BaseModel) and isinstance(value, dict):
                unknown += unknown_keys(kind, value, f"{where}{key}.")
            elif typing.get_origin(kind) is dict and isinstance(value, dict):
                (_, inner) = typing.get_args(kind)
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    for name, item in value.items():
                        unknown += unknown_keys(inner, item, f"{where}{key}.{name}.")
    return unknown


def test_the_base_runs_with_the_ledger_events_and_history_on(build):
    _, objects = build
    *_, config = parts(objects)
    assert unknown_keys(Config, config) == []  # every key is one config.py reads
    for name, platform in config["platforms"].items():
        assert platform.get("idempotency_table"), name
        assert platform.get("history_table"), name
        queue = platform["events"]["sqs_queue_url"]
        host, (account, queue_name) = urlsplit(queue).netloc, urlsplit(queue).path.strip("/").split("/")
        assert host == f"sqs.{platform['region']}.amazonaws.com" and account.isdigit() and queue_name, name
        # One queue for every replica is right only with the history table (docs/events.md).
        assert platform["history_table"]
    deployment, *_ = parts(objects)
    assert deployment["spec"]["replicas"] == 2


def test_the_page_token_key_is_one_secret_mounted_where_the_config_points(build):
    _, objects = build
    _, pod, container, _, config = parts(objects)
    directory, name = config["server"]["token_key_file"].rsplit("/", 1)
    volumes = {v["name"]: v for v in pod["volumes"]}
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == directory]
    secret = volumes[mount["name"]]["secret"]
    assert secret["secretName"] == "polysync-batch-token-key"
    assert {"key": name, "path": name} in secret["items"]
    assert not secret.get("optional", False)  # no pod starts with a key of its own
    # Not in the manifests (no key shared through the repository): docs/operating.md makes it.
    assert not [o for (kind, _), o in objects.items() if kind == "Secret"]
    operating = (ROOT / "docs/operating.md").read_text()
    assert f"kubectl create secret generic {secret['secretName']}" in operating
    assert f"--from-file={name}=" in operating


def readme_policy() -> dict:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### IAM policy for the caller", 1)[1]
    return json.loads(section.split("```json", 1)[1].split("```", 1)[0])


def allowed(policy: dict, action: str, resource: str) -> bool:
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if statement["Effect"] == "Allow" and action in actions and (resource in resources or "*" in resources):
            return True
    return False


def test_the_readmes_iam_policy_covers_what_the_base_config_uses():
    config = tomllib.loads((ROOT / "deploy/base/config.toml").read_text())
    policy = readme_policy()
    for name, platform in config["platforms"].items():
        region = platform["region"]
        account, queue = urlsplit(platform["events"]["sqs_queue_url"]).path.strip("/").split("/")
        ledger = f"arn:aws:dynamodb:{region}:{account}:table/{platform['idempotency_table']}"
        for action in ("GetItem", "PutItem", "UpdateItem"):
            assert allowed(policy, f"dynamodb:{action}", ledger), (name, action)
        history = f"arn:aws:dynamodb:{region}:{account}:table/{platform['history_table']}"
        for action in ("GetItem", "PutItem", "UpdateItem", "Query", "BatchWriteItem"):
            assert allowed(policy, f"dynamodb:{action}", history), (name, action)
        queue_arn = f"arn:aws:sqs:{region}:{account}:{queue}"
        for action in ("ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility"):
            assert allowed(policy, f"sqs:{action}", queue_arn), (name, action)
        job_queue = f"arn:aws:batch:{region}:{account}:job-queue/{platform['default_job_queue']}"
        assert allowed(policy, "batch:DescribeComputeEnvironments", "*")  # §13
        assert allowed(policy, "batch:GetJobQueueSnapshot", job_queue)  # §13
        assert allowed(policy, "batch:ListJobs", "*")  # the feed's discovery
        assert allowed(policy, "batch:SubmitJob", job_queue)
