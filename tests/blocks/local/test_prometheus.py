"""Prometheus scrapes every instance with app/version/track labels (real Prometheus)."""

from __future__ import annotations

import time
from typing import Any

from blocks.local.instances import InstanceRecord
from blocks.local.prometheus import file_sd_groups, track_of
from blocks.local.routing_table import RoutingState
from tests.support.local_stack import APP, RunningStack, start_version


def test_tracks_follow_stable_preview_and_explicit_env() -> None:
    routing = RoutingState(weights={"v1": 100}, preview="v2", stable="v1")
    assert track_of("v1", routing, {}) == "stable"
    assert track_of("v2", routing, {}) == "green"
    assert track_of("v3", routing, {}) == "canary"
    assert track_of("v3", routing, {"FLOODGATE_TRACK": "batch-2"}) == "batch-2"
    assert track_of("v1", routing, {"FLOODGATE_TRACK": "canary"}) == "stable"


def test_stopping_instances_leave_file_sd() -> None:
    records = [InstanceRecord(app=APP, version="v1", port=1, config_digest="x"),
               InstanceRecord(app=APP, version="v1", port=2, config_digest="x", stopping=True)]
    groups = file_sd_groups(APP, records, RoutingState(stable="v1"), {})
    assert groups == [{"targets": ["127.0.0.1:1"], "labels": {
        "app": APP, "version": "v1", "track": "stable", "floodgate_instance": f"{APP}-v1-1"}}]


def series(stack: RunningStack, query: str, want: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        result = stack.prometheus_query(query)
        if len(result) >= want or time.monotonic() > deadline:
            return result
        time.sleep(0.25)


def test_every_instance_is_scraped_with_its_labels(stack: RunningStack) -> None:
    start_version(stack, "v2", 1)
    stack.target.set_preview(APP, "v2")
    expected = [("v1", "stable"), ("v1", "stable"), ("v2", "green")]
    # v2 is first scraped as "canary" and relabelled "green" when file_sd is re-read: poll for
    # the final label set rather than the first three series that show up.
    deadline = time.monotonic() + 30
    while True:
        ups = stack.prometheus_query(f'up{{app="{APP}"}} == 1')
        labels = sorted((s["metric"]["version"], s["metric"]["track"]) for s in ups)
        if labels == expected or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert labels == expected
    # the app's own metrics carry the same labels exactly once (no exported_* duplicates)
    requests = series(stack, f'http_requests_total{{app="{APP}",version="v2"}}', want=1)
    assert requests
    assert all("exported_app" not in s["metric"] for s in requests)
    assert {s["metric"]["track"] for s in requests} == {"green"}
