"""What a snapshot keeps of an object: what was asked for, not what the server added."""

from __future__ import annotations

from typing import Any

from blocks.kubernetes.objects import clean, object_key

LIVE_SERVICE: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "shop", "namespace": "ns", "uid": "u", "resourceVersion": "9",
                 "creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": [{}],
                 "labels": {"floodgate.dev/app": "shop"}},
    "spec": {"clusterIP": "10.96.0.9", "clusterIPs": ["10.96.0.9"], "type": "ClusterIP",
             "selector": {"floodgate.dev/app": "shop"}},
    "status": {"loadBalancer": {}},
}
LIVE_DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "shop-v1", "generation": 4, "annotations": {
        "deployment.kubernetes.io/revision": "3", "floodgate.dev/version": "v1"}},
    "spec": {"replicas": 3, "template": {"metadata": {"creationTimestamp": None,
                                                      "labels": {"a": "b"}}}},
    "status": {"readyReplicas": 3},
}


def test_server_fields_are_dropped_and_the_spec_kept() -> None:
    assert clean(LIVE_SERVICE) == {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "shop", "labels": {"floodgate.dev/app": "shop"}},
        "spec": {"type": "ClusterIP", "selector": {"floodgate.dev/app": "shop"}},
    }
    assert clean(LIVE_DEPLOYMENT) == {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "shop-v1", "annotations": {"floodgate.dev/version": "v1"}},
        "spec": {"replicas": 3, "template": {"metadata": {"labels": {"a": "b"}}}},
    }


def test_cleaning_leaves_the_live_object_alone() -> None:
    clean(LIVE_DEPLOYMENT)
    assert LIVE_DEPLOYMENT["spec"]["template"]["metadata"] == {"creationTimestamp": None,
                                                               "labels": {"a": "b"}}


def test_restore_order_puts_workloads_first() -> None:
    ordered = sorted([clean(LIVE_SERVICE), clean(LIVE_DEPLOYMENT)], key=object_key)
    assert [o["kind"] for o in ordered] == ["Deployment", "Service"]
