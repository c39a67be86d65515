"""Served weights and preview fallbacks of the routing table (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from blocks.local.routing_table import AppRoutes, RoutingTable, nginx_name, upstream_name


def route(weights: dict[str, int], upstreams: Mapping[str, tuple[int, ...]],
          **kw: str | None) -> AppRoutes:
    return AppRoutes(app="fraud-api", entry_port=1, preview_port=2, upstreams=upstreams,
                     weights=weights, **kw)


def test_served_weights_keep_positive_routed_versions() -> None:
    r = route({"v1": 95, "v2": 5, "v3": 0}, {"v1": (10,), "v2": (11,), "v3": (12,)})
    assert r.served_weights() == {"v1": 95, "v2": 5}


def test_share_of_a_version_without_instances_goes_to_the_largest() -> None:
    r = route({"v1": 90, "v2": 10}, {"v1": (10,)})
    assert r.served_weights() == {"v1": 100}


def test_no_weights_serve_nothing() -> None:
    assert route({}, {"v1": (10,)}).served_weights() == {}


def test_preview_falls_back_to_stable_then_to_the_busiest_version() -> None:
    ups = {"v1": (10,), "v2": (11,)}
    assert route({"v1": 100}, ups, preview="v2", stable="v1").preview_target() == "v2"
    assert route({"v1": 100}, ups, stable="v1").preview_target() == "v1"
    assert route({"v1": 30, "v2": 70}, ups).preview_target() == "v2"
    assert route({}, {}).preview_target() is None


def test_state_json_reports_served_weights_and_upstreams() -> None:
    table = RoutingTable(7, 9000, (route({"v1": 100}, {"v1": (10, 11)}, stable="v1"),))
    state = table.state_json("reload")
    assert state["config_generation"] == 7
    assert state["apps"]["fraud-api"]["weights"] == {"v1": 100}
    assert state["apps"]["fraud-api"]["upstreams"] == {"v1": ["127.0.0.1:10", "127.0.0.1:11"]}


def test_names_are_valid_nginx_identifiers() -> None:
    assert nginx_name("fraud-api") == "fraud_api"
    assert upstream_name("fraud-api", "v1.2") == "fg_fraud-api__v1.2"
