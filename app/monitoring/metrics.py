"""`MetricsCollector`: every metric of one app instance, on that instance's own registry.

Each `create_app()` builds its own collector and `CollectorRegistry`, never the global
`prometheus_client.REGISTRY`: two apps in one process (tests, benchmarks) would otherwise share
counters or fail with "Duplicated timeseries". Names and labels come from `names.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from app.monitoring import names
from app.monitoring.http_metrics import HttpRequestMetrics
from app.monitoring.queries import categorize_query_error

_BASE = (names.APP_LABEL, names.VERSION_LABEL)


def normalize_method(method: str) -> str:
    """Bound the `method` label: standard methods as-is, anything else `OTHER`."""
    return method if method in names.KNOWN_METHODS else names.OTHER_METHOD


class MetricsCollector:
    """Records HTTP, query, pool, cache and operation metrics for one (app, version)."""

    def __init__(
        self, app_name: str, version: str, registry: CollectorRegistry | None = None
    ) -> None:
        self.app_name = app_name
        self.version = version
        self.registry = registry if registry is not None else CollectorRegistry()
        reg = self.registry
        self.http = HttpRequestMetrics(app_name, version)
        reg.register(self.http)
        self._exceptions = Counter(
            names.UNHANDLED_EXCEPTIONS_TOTAL, "Exceptions that escaped a handler, by class.",
            (*_BASE, "type"), registry=reg,
        )
        self._queries = Counter(
            names.DB_QUERIES_TOTAL, "Database queries by operation and outcome.",
            (*_BASE, "operation", "outcome"), registry=reg,
        )
        self._query_errors = Counter(
            names.DB_QUERY_ERRORS_TOTAL, "Failed database queries by error category.",
            (*_BASE, "operation", "category"), registry=reg,
        )
        self._query_durations = Histogram(
            names.DB_QUERY_DURATION_SECONDS, "Database query duration.",
            (*_BASE, "operation"), buckets=names.DB_DURATION_BUCKETS, registry=reg,
        )
        self._pool_in_use = Gauge(
            names.CONNECTION_POOL_IN_USE, "Connections checked out of a pool.",
            (*_BASE, "pool"), registry=reg,
        )
        self._pool_capacity = Gauge(
            names.CONNECTION_POOL_CAPACITY, "Most connections a pool will open.",
            (*_BASE, "pool"), registry=reg,
        )
        self._cache_hits = Counter(
            names.CACHE_HITS_TOTAL, "Cache lookups that found a value.", (*_BASE, "cache"),
            registry=reg,
        )
        self._cache_misses = Counter(
            names.CACHE_MISSES_TOTAL, "Cache lookups that found nothing.", (*_BASE, "cache"),
            registry=reg,
        )
        self._operations = Counter(
            names.OPERATIONS_TOTAL, "Non-HTTP operations by outcome.",
            (*_BASE, "operation", "outcome"), registry=reg,
        )
        self._operation_durations = Histogram(
            names.OPERATION_DURATION_SECONDS, "Non-HTTP operation duration.",
            (*_BASE, "operation"), buckets=names.OPERATION_DURATION_BUCKETS, registry=reg,
        )
        # `labels()` validates and hashes on every call; cached children skip it.
        self._cache_children: dict[str, tuple[Any, Any]] = {}

    # -- HTTP -------------------------------------------------------------------------------

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished HTTP request and record its duration (event loop thread only)."""
        self.http.observe(method, route, status, seconds)

    def record_unhandled_exception(self, error: BaseException) -> None:
        """Count an exception that escaped a handler, by its class name."""
        self._exceptions.labels(self.app_name, self.version, type(error).__name__).inc()

    # -- database ---------------------------------------------------------------------------

    def observe_query(
        self, operation: str, seconds: float, error: BaseException | None = None
    ) -> None:
        """Record one query; a failed one is also counted under its error category."""
        base = (self.app_name, self.version, operation)
        self._query_durations.labels(*base).observe(seconds)
        if error is None:
            self._queries.labels(*base, names.OUTCOME_SUCCESS).inc()
            return
        self._queries.labels(*base, names.OUTCOME_ERROR).inc()
        self._query_errors.labels(*base, categorize_query_error(error)).inc()

    @contextmanager
    def time_query(self, operation: str) -> Iterator[None]:
        """Time the block as one query of `operation`; an exception is recorded and re-raised."""
        start = time.perf_counter()
        try:
            yield
        except Exception as error:
            self.observe_query(operation, time.perf_counter() - start, error)
            raise
        self.observe_query(operation, time.perf_counter() - start)

    # -- connection pools -------------------------------------------------------------------

    def watch_pool(self, pool: str, in_use: Callable[[], float], capacity: float) -> None:
        """Report a pool's usage at scrape time (`in_use` is called on every scrape)."""
        self._pool_in_use.labels(self.app_name, self.version, pool).set_function(in_use)
        self._pool_capacity.labels(self.app_name, self.version, pool).set(capacity)

    def set_pool_usage(self, pool: str, in_use: float, capacity: float) -> None:
        """Report a pool's usage now (for pools that push their numbers)."""
        self._pool_in_use.labels(self.app_name, self.version, pool).set(in_use)
        self._pool_capacity.labels(self.app_name, self.version, pool).set(capacity)

    # -- cache ------------------------------------------------------------------------------

    def record_cache_lookup(self, cache: str, hit: bool) -> None:
        """Count a hit or a miss. Both series of a cache are created on its first lookup, so a
        cache that never hits still has `cache_hits_total` at 0 and its hit-rate query works."""
        children = self._cache_children.get(cache)
        if children is None:
            children = (
                self._cache_hits.labels(self.app_name, self.version, cache),
                self._cache_misses.labels(self.app_name, self.version, cache),
            )
            self._cache_children[cache] = children
        children[0 if hit else 1].inc()

    def cache_hit_rate(self, cache: str | None = None) -> float | None:
        """Hits / lookups since start (all caches when `cache` is None); None before any lookup.

        For a windowed rate query Prometheus instead: hits / (hits + misses) over `rate()`s.
        """
        hits = _counter_total(self._cache_hits, cache)
        lookups = hits + _counter_total(self._cache_misses, cache)
        return None if lookups == 0 else hits / lookups

    # -- non-HTTP operations ----------------------------------------------------------------

    def observe_operation(self, operation: str, seconds: float, outcome: str) -> None:
        base = (self.app_name, self.version, operation)
        self._operations.labels(*base, outcome).inc()
        self._operation_durations.labels(*base).observe(seconds)

    # -- exposition -------------------------------------------------------------------------

    def render(self) -> tuple[bytes, str]:
        """The text exposition of this collector's registry and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def _counter_total(counter: Counter, cache: str | None) -> float:
    total = 0.0
    for metric in counter.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and cache in (None, sample.labels.get("cache")):
                total += sample.value
    return total
