"""polysync_batch_events_total{platform,outcome} and polysync_batch_events_healthy{platform} come
from each platform's event consumer at scrape time; platforms without a queue report none."""

from collections import Counter
from types import SimpleNamespace

from polysync_batch.observability.metrics import PlatformCollector
from polysync_batch.watch.hub import HubStats


def platform(name, consumer):
    hub = SimpleNamespace(stats=lambda: HubStats(streams=0, watched_runs=0, oldest_poll_age_seconds=0.0))
    return SimpleNamespace(
        info=SimpleNamespace(name=name), hub=hub, clients=SimpleNamespace(metrics=None), events=consumer
    )


def test_event_outcomes_and_health_per_platform():
    consumer = SimpleNamespace(counts=Counter(applied=7, duplicate=2, malformed=1), healthy=True)
    failing = SimpleNamespace(counts=Counter(applied=1), healthy=False)
    families = {
        f.name: f
        for f in PlatformCollector(
            [platform("prod", consumer), platform("dev", failing), platform("demo", None)]
        ).collect()
    }
    totals = {
        (s.labels["platform"], s.labels["outcome"]): s.value
        for s in families["polysync_batch_events"].samples
        if s.name.endswith("_total")
    }
    assert totals == {("prod", "applied"): 7, ("prod", "duplicate"): 2, ("prod", "malformed"): 1, ("dev", "applied"): 1}
    health = {s.labels["platform"]: s.value for s in families["polysync_batch_events_healthy"].samples}
    assert health == {"prod": 1, "dev": 0}
