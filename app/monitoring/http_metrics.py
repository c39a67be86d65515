"""`HttpRequestMetrics`: the per-request HTTP metrics, kept in plain dicts, exported on scrape.

Why not `prometheus_client.Counter`/`Histogram` here: each `inc()`/`observe()` takes a lock and
walks the buckets in Python, ~1.5 us a request with the in-progress gauge; the middleware budget
is a few microseconds in all. These counters are only ever updated from the event loop thread
(the ASGI middleware), so plain integer updates are safe without a lock, and the work moves to
scrape time (`collect()`), which runs once every few seconds. The exposition is identical to a
Counter + Histogram + Gauge with the names and labels in `names.py`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from time import perf_counter

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from starlette.routing import BaseRoute, Mount
from starlette.types import Scope

from app.monitoring import names
from app.monitoring.route_labels import request_route


class HttpRequestMetrics(Collector):
    """`http_requests_total`, `http_request_duration_seconds`, `http_requests_in_progress`.

    Call `observe()` from the event loop thread only (the middleware does).
    """

    def __init__(self, app_name: str, version: str,
                 buckets: tuple[float, ...] = names.HTTP_DURATION_BUCKETS) -> None:
        if list(buckets) != sorted(buckets) or not buckets:
            raise ValueError(f"buckets must be a non-empty ascending sequence, got {buckets}")
        self.app_name = app_name
        self.version = version
        self.buckets = tuple(buckets)
        self.in_progress = 0
        self._series: dict[tuple[str, str], _Series] = {}
        self._le_labels: list[str] = [
            floatToGoString(b) for b in self.buckets  # type: ignore[no-untyped-call]
        ] + ["+Inf"]

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request of `method` on the route labelled `route`, `seconds` long."""
        self._count(self._series.get((method, route)) or self._series_for(method, route),
                    status, seconds)

    def observe_request(
        self, scope: Scope, status: int, started: float, outer_root_path: str = "",
        routes: Sequence[BaseRoute] = (),
    ) -> None:
        """`observe` a finished ASGI request: labelled by its route template (see
        route_labels.py; `routes` label requests refused before routing), timed from `started`
        (a `time.perf_counter()` value) to now.

        One call per request with the usual case inline (a route of the app itself, a method
        seen before): this runs for every request, and each Python call it avoids is ~0.1 us."""
        route = scope.get("route")
        try:  # an attribute read, a fraction of `getattr(route, "path", None)`
            template = route.path if route is not None else None
        except AttributeError:  # a route without a path (Host): the slow path names it
            template = None
        if (type(template) is not str or type(route) is Mount
                or scope.get("root_path", "") != outer_root_path):
            template = request_route(scope, outer_root_path, status, routes)  # rare
        method = scope["method"]
        series = self._series.get((method, template)) or self._series_for(method, template)
        seconds = perf_counter() - started
        statuses = series.statuses  # `_count`, inline
        statuses[status] = statuses.get(status, 0) + 1
        bounds = self.buckets  # most requests end inside the first bucket: no bisect for them
        series.buckets[0 if seconds <= bounds[0] else bisect_left(bounds, seconds)] += 1
        series.total_seconds += seconds

    def _series_for(self, method: str, route: str) -> _Series:
        """The series of (method, route), made on first use; methods outside KNOWN_METHODS share
        one series per route (labelled OTHER) and are never keys themselves, so junk methods
        cannot grow the dict."""
        if method not in names.KNOWN_METHODS:
            method = names.OTHER_METHOD
        series = self._series.get((method, route))
        if series is None:
            series = self._series[(method, route)] = _Series(len(self.buckets))
        return series

    def _count(self, series: _Series, status: int, seconds: float) -> None:
        statuses = series.statuses
        statuses[status] = statuses.get(status, 0) + 1
        series.buckets[bisect_left(self.buckets, seconds)] += 1
        series.total_seconds += seconds

    def collect(self) -> Iterator[Metric]:
        base = [self.app_name, self.version]
        requests = CounterMetricFamily(
            names.HTTP_REQUESTS_TOTAL, "HTTP requests by method, route template and status.",
            labels=names.HTTP_REQUEST_LABELS,
        )
        all_series = list(self._series.items())
        for (method, route), series in all_series:
            for status, count in list(series.statuses.items()):
                requests.add_metric([*base, method, route, str(status)], count)
        yield requests

        durations = HistogramMetricFamily(
            names.HTTP_REQUEST_DURATION_SECONDS,
            "Time from request start to the last response byte, by route template.",
            labels=names.HTTP_DURATION_LABELS,
        )
        for key, series in all_series:
            cumulative, total = [], 0
            for le, count in zip(self._le_labels, list(series.buckets), strict=True):
                total += count
                cumulative.append((le, float(total)))
            durations.add_metric([*base, *key], cumulative, series.total_seconds)
        yield durations

        in_progress = GaugeMetricFamily(
            names.HTTP_REQUESTS_IN_PROGRESS, "HTTP requests being served now.",
            labels=[names.APP_LABEL, names.VERSION_LABEL],
        )
        in_progress.add_metric(base, self.in_progress)
        yield in_progress

    def describe(self) -> Iterator[Metric]:
        """Names only (lets the registry detect a clash with another collector early)."""
        yield CounterMetricFamily(names.HTTP_REQUESTS_TOTAL, "", labels=())
        yield HistogramMetricFamily(names.HTTP_REQUEST_DURATION_SECONDS, "", labels=())
        yield GaugeMetricFamily(names.HTTP_REQUESTS_IN_PROGRESS, "", labels=())


class _Series:
    """Counters of one (method, route): per-status counts, bucket counts (not cumulative; the
    last one is +Inf) and the sum of durations."""

    __slots__ = ("buckets", "statuses", "total_seconds")

    def __init__(self, bucket_count: int) -> None:
        self.statuses: dict[int, int] = {}
        self.buckets = [0] * (bucket_count + 1)
        self.total_seconds = 0.0
