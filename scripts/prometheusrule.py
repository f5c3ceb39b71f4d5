"""Writes deploy/monitoring/prometheusrule.yaml: the rule groups of alerts.yaml (copied as text,
comments and all) in a Prometheus Operator PrometheusRule. `make prometheusrule` runs it;
tests/deploy/test_monitoring.py fails when the two differ."""

from pathlib import Path

MONITORING = Path(__file__).parents[1] / "deploy/monitoring"
HEADER = """\
# Generated from alerts.yaml by `make prometheusrule` (scripts/prometheusrule.py): edit
# alerts.yaml. The Prometheus Operator loads it when its ruleSelector matches these labels
# (add your Prometheus' own, e.g. `release: …`, in an overlay).
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: polysync-batch
  labels:
    app.kubernetes.io/name: polysync-batch
    app.kubernetes.io/part-of: polysync
spec:
"""


def main() -> None:
    lines = (MONITORING / "alerts.yaml").read_text().splitlines()
    start = lines.index("groups:")
    body = "".join(f"  {line}\n" if line else "\n" for line in lines[start:])
    (MONITORING / "prometheusrule.yaml").write_text(HEADER + body)


if __name__ == "__main__":
    main()
