"""What the rendered manifests must agree on with each other, with the image and with the
configuration they carry (deploy-test.sh validates them against the Kubernetes schemas)."""

import re
import tomllib
from pathlib import Path

import dockerfile
import pytest
from polysync_batch.config import load_config

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
def test_the_configmaps_toml_is_a_configuration_the_server_accepts(path):
    load_config(str(ROOT / path), {})


def test_config_keys_are_spec_names():
    for path in ("deploy/base/config.toml", "deploy/overlays/production-tls/config.toml"):
        config = tomllib.loads((ROOT / path).read_text())
        assert set(config) <= {"default_platform", "server", "metrics", "platforms", "watch", "auth", "tracing"}
        assert set(config["server"]) <= {
            "address", "allow_insecure", "health_address", "tls", "shutdown_grace_seconds",
            "reflection", "max_message_bytes", "max_streams_per_caller", "max_pending_requests",
        }  # fmt: skip
        assert set(config["metrics"]) == {"address"}
        assert re.fullmatch(r"0\.0\.0\.0:\d+", config["metrics"]["address"])
