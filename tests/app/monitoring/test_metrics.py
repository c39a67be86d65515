"""MetricsCollector: names and labels as documented, own registry per app, helpers."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY, CollectorRegistry

from app.monitoring import names
from app.monitoring.metrics import MetricsCollector, normalize_method


def sample(collector: MetricsCollector, name: str, **labels: str) -> float | None:
    return collector.registry.get_sample_value(
        name, {"app": collector.app_name, "version": collector.version, **labels}
    )


@pytest.fixture
def collector() -> MetricsCollector:
    return MetricsCollector("fraud", "v2")


def test_request_is_counted_with_app_version_method_route_status(collector):
    collector.observe_request("POST", "/score", 200, 0.004)
    collector.observe_request("POST", "/score", 200, 0.8)
    collector.observe_request("POST", "/score", 503, 1.2)

    assert sample(collector, "http_requests_total", method="POST", route="/score",
                  status="200") == 2
    assert sample(collector, "http_requests_total", method="POST", route="/score",
                  status="503") == 1
    count = sample(collector, "http_request_duration_seconds_count", method="POST",
                   route="/score")
    assert count == 3


def test_duration_buckets_separate_5ms_800ms_and_1s(collector):
    for seconds in (0.004, 0.8, 1.2):
        collector.observe_request("GET", "/x", 200, seconds)

    def bucket(le: str) -> float | None:
        return sample(collector, "http_request_duration_seconds_bucket", method="GET",
                      route="/x", le=le)

    assert bucket("0.005") == 1  # the 4 ms request alone
    assert bucket("0.75") == 1
    assert bucket("1.0") == 2  # + the 800 ms one
    assert bucket("1.5") == 3  # + the 1.2 s one


def test_unknown_methods_collapse_to_other():
    assert normalize_method("GET") == "GET"
    assert normalize_method("get") == "OTHER"
    assert normalize_method("BREW") == "OTHER"


def test_each_collector_has_its_own_registry():
    first, second = MetricsCollector("a", "1"), MetricsCollector("a", "1")
    first.observe_request("GET", "/", 200, 0.01)

    assert first.registry is not second.registry
    assert second.registry.get_sample_value(
        "http_requests_total",
        {"app": "a", "version": "1", "method": "GET", "route": "/", "status": "200"},
    ) is None
    assert REGISTRY.get_sample_value("http_requests_total") is None


def test_an_explicit_registry_is_used():
    registry = CollectorRegistry()
    collector = MetricsCollector("a", "1", registry=registry)
    assert collector.registry is registry


def test_unhandled_exceptions_by_class(collector):
    collector.record_unhandled_exception(KeyError("k"))
    collector.record_unhandled_exception(KeyError("j"))
    collector.record_unhandled_exception(ValueError())
    assert sample(collector, "unhandled_exceptions_total", type="KeyError") == 2
    assert sample(collector, "unhandled_exceptions_total", type="ValueError") == 1


def test_queries_by_outcome_and_error_category(collector):
    collector.observe_query("select", 0.01)
    collector.observe_query("select", 2.5, TimeoutError())
    collector.observe_query("insert", 0.02, ConnectionResetError())

    assert sample(collector, "db_queries_total", operation="select", outcome="success") == 1
    assert sample(collector, "db_queries_total", operation="select", outcome="error") == 1
    assert sample(collector, "db_query_errors_total", operation="select",
                  category="timeout") == 1
    assert sample(collector, "db_query_errors_total", operation="insert",
                  category="connection") == 1
    # the slow-query alert reads the bucket at exactly 2 s
    assert sample(collector, "db_query_duration_seconds_bucket", operation="select",
                  le="2.0") == 1
    assert sample(collector, "db_query_duration_seconds_count", operation="select") == 2


def test_time_query_records_and_reraises(collector):
    with collector.time_query("select"):
        pass
    with pytest.raises(KeyError), collector.time_query("select"):
        raise KeyError("missing")
    assert sample(collector, "db_queries_total", operation="select", outcome="success") == 1
    assert sample(collector, "db_query_errors_total", operation="select", category="other") == 1


def test_cache_hit_rate(collector):
    assert collector.cache_hit_rate() is None
    for hit in (True, True, True, False):
        collector.record_cache_lookup("features", hit)
    collector.record_cache_lookup("models", False)

    assert collector.cache_hit_rate("features") == pytest.approx(0.75)
    assert collector.cache_hit_rate("models") == 0
    assert collector.cache_hit_rate() == pytest.approx(3 / 5)
    assert collector.cache_hit_rate("unknown") is None


def test_a_cache_that_never_hit_still_exports_zero_hits(collector):
    collector.record_cache_lookup("models", False)
    assert sample(collector, "cache_hits_total", cache="models") == 0
    assert sample(collector, "cache_misses_total", cache="models") == 1


def test_watched_pool_is_read_at_scrape_time(collector):
    in_use = [3]
    collector.watch_pool("redis", lambda: in_use[0], 15)
    assert sample(collector, "connection_pool_in_use", pool="redis") == 3
    in_use[0] = 14
    assert sample(collector, "connection_pool_in_use", pool="redis") == 14
    assert sample(collector, "connection_pool_capacity", pool="redis") == 15


def test_render_is_the_text_format_with_every_documented_name(collector):
    collector.observe_request("GET", "/", 200, 0.01)
    collector.observe_query("q", 0.01)
    collector.record_cache_lookup("c", True)
    collector.record_unhandled_exception(ValueError())
    collector.set_pool_usage("p", 1, 2)
    collector.observe_operation("job", 0.1, names.OUTCOME_SUCCESS)
    body, content_type = collector.render()
    text = body.decode()

    assert content_type.startswith("text/plain")
    for name in (
        names.HTTP_REQUESTS_TOTAL, names.HTTP_REQUEST_DURATION_SECONDS,
        names.HTTP_REQUESTS_IN_PROGRESS, names.UNHANDLED_EXCEPTIONS_TOTAL,
        names.DB_QUERIES_TOTAL, names.DB_QUERY_DURATION_SECONDS, names.CONNECTION_POOL_IN_USE,
        names.CONNECTION_POOL_CAPACITY, names.CACHE_HITS_TOTAL, names.CACHE_MISSES_TOTAL,
        names.OPERATIONS_TOTAL, names.OPERATION_DURATION_SECONDS,
    ):
        assert f"# TYPE {name} " in text, name
    assert 'http_requests_total{app="fraud",method="GET",route="/",status="200",version="v2"}' \
        in text
