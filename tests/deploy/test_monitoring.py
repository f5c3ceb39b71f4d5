"""The alert rules and the dashboard use exactly the metric names of SPEC §8.3 and §11
(dashboards and alerts elsewhere use the same names), and the dashboard is well-formed
Grafana JSON whose every query promtool parses."""

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]
MONITORING = ROOT / "deploy/monitoring"

# SPEC §8.3 and §11, names fixed.
COUNTERS_AND_GAUGES = {
    "grpc_server_started_total",
    "grpc_server_handled_total",
    "grpc_server_msg_sent_total",
    "polysync_batch_aws_calls_total",
    "polysync_batch_watch_streams",
    "polysync_batch_watched_runs",
    "polysync_batch_poll_lag_seconds",
    "polysync_batch_events_healthy",
    "polysync_batch_events_total",
}
HISTOGRAMS = {"grpc_server_handling_seconds", "polysync_batch_aws_call_seconds"}
SPEC_METRICS = COUNTERS_AND_GAUGES | HISTOGRAMS
SERIES = COUNTERS_AND_GAUGES | {f"{name}{suffix}" for name in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")}

KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "le", "inf", "nan",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (a small tokenizer, enough for ours)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings (label values, regexes)
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range selectors
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\$\{?\w+\}?", "", expr)  # Grafana variables
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", expr):
        name, call = match.groups()
        if not call and name.lower() not in KEYWORDS:
            names.add(name)
    return names


def dashboard() -> dict:
    return json.loads((MONITORING / "dashboard.json").read_text())


def dashboard_exprs() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]


def alert_rules() -> list[dict]:
    groups = yaml.safe_load((MONITORING / "alerts.yaml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_the_name_check_sees_metric_names_and_nothing_else():
    expr = (
        'sum by (platform, operation) (rate(polysync_batch_aws_calls_total{outcome=~"ok|x"}[5m]))'
        " / on (platform) group_left histogram_quantile(0.9, rate(grpc_server_handling_seconds_bucket"
        '{job=~"$job"}[$__rate_interval])) > bool 0.05 or polysync_batch_aws_call_count'
    )
    names = metric_names(expr)
    assert names == {
        "polysync_batch_aws_calls_total",
        "grpc_server_handling_seconds_bucket",
        "polysync_batch_aws_call_count",
    }
    assert names - SERIES == {"polysync_batch_aws_call_count"}  # a wrong name is caught


def test_every_alert_uses_only_spec_metrics():
    for rule in alert_rules():
        names = metric_names(rule["expr"])
        assert names, rule["alert"]
        assert names <= SERIES, f"{rule['alert']}: not SPEC §8.3 names: {names - SERIES}"


def test_the_alerts_the_operating_guide_explains():
    alerts = {rule["alert"] for rule in alert_rules()}
    guide = (ROOT / "docs/operating.md").read_text()
    assert {
        "PolysyncBatchPollLagHigh",
        "PolysyncBatchAwsThrottling",
        "PolysyncBatchAwsErrors",
        "PolysyncBatchRpcErrorRatioHigh",
        "PolysyncBatchWatchStreamsNearCap",
    } <= alerts
    for alert in alerts:
        assert f"### {alert}" in guide, f"docs/operating.md has no section for {alert}"
    for rule in alert_rules():
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["alert"] in rule["annotations"]["description"]


def test_the_prometheusrule_carries_alerts_yaml():
    rule = yaml.safe_load((MONITORING / "prometheusrule.yaml").read_text())
    alerts = yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    assert rule["kind"] == "PrometheusRule"
    assert rule["spec"] == alerts, "run make prometheusrule"


def test_dashboard_is_well_formed_grafana_json():
    board = dashboard()
    assert board["title"] and board["uid"] and isinstance(board["schemaVersion"], int)
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    variables = {v["name"] for v in board["templating"]["list"]}
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["type"] == "timeseries" and panel["targets"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            for variable in re.findall(r"\$\{?(\w+)\}?", target["expr"]):
                assert variable.startswith("__") or variable in variables, (panel["title"], variable)


def test_dashboard_uses_only_spec_metrics_and_shows_each_of_them():
    used = set()
    for expr in dashboard_exprs():
        names = metric_names(expr)
        assert names and names <= SERIES, f"not SPEC §8.3 names: {names - SERIES} in {expr}"
        used |= names
    shown = {re.sub(r"_(bucket|sum|count)$", "", n) if n not in SPEC_METRICS else n for n in used}
    assert shown == SPEC_METRICS, f"no panel for {SPEC_METRICS - shown}"


def test_dashboard_queries_are_promql_that_promtool_parses(promtool, tmp_path):
    rules = [
        {
            "record": f"dashboard:query_{i}",
            "expr": re.sub(r"\$\{?(\w+)\}?", lambda m: "5m" if m[1] == "__rate_interval" else ".*", e),
        }
        for i, e in enumerate(dashboard_exprs())
    ]
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("broken", ["sum(rate(polysync_batch_watch_streams[5m])", "up > > 1"])
def test_promtool_rejects_a_broken_query(promtool, tmp_path, broken):
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "x", "rules": [{"record": "x:y", "expr": broken}]}]}))
    assert subprocess.run([promtool, "check", "rules", str(path)], capture_output=True).returncode != 0
