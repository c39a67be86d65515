"""Every metric name, label and bucket Floodgate emits: the contract PromQL is written against.

The canary analysis (flows/, blocks/prometheus) and the alert rules (`app.monitoring.alerting`)
query these names, so they are stable: renaming one is a breaking change. Every metric carries
the `app` and `version` labels (settings APP_NAME / APP_VERSION), which is how several replicas
of different versions behind one load balancer are told apart.

| metric                                   | type      | labels                                   |
|------------------------------------------|-----------|------------------------------------------|
| http_requests_total                      | counter   | app, version, method, route, status      |
| http_request_duration_seconds            | histogram | app, version, method, route              |
| http_requests_in_progress                | gauge     | app, version                             |
| unhandled_exceptions_total               | counter   | app, version, type                       |
| db_queries_total                         | counter   | app, version, operation, outcome         |
| db_query_errors_total                    | counter   | app, version, operation, category        |
| db_query_duration_seconds                | histogram | app, version, operation                  |
| connection_pool_in_use                   | gauge     | app, version, pool                       |
| connection_pool_capacity                 | gauge     | app, version, pool                       |
| cache_hits_total / cache_misses_total    | counter   | app, version, cache                      |
| operation_duration_seconds               | histogram | app, version, operation                  |
| operations_total                         | counter   | app, version, operation, outcome         |

Label values:
* `route` is the route TEMPLATE (`/items/{item_id}`), never the raw path, so cardinality is
  bounded by the number of routes. Requests no route matched are `<unmatched>`.
* `method` is one of the standard HTTP methods, anything else is `OTHER`.
* `status` is the numeric response status as text (`"200"`); a request whose handler raised
  before a response started is recorded as `"500"`.
* `outcome` is `success` or `error`; `category` is one of `QUERY_ERROR_CATEGORIES`.
* `type` is the exception's class name (`ValueError`), bounded by the code base.

Example PromQL (the canary analysis uses these shapes):
    error rate:  sum(rate(http_requests_total{app="a",version="v",status=~"5.."}[1m]))
                 / sum(rate(http_requests_total{app="a",version="v"}[1m]))
    p95 latency: histogram_quantile(0.95, sum by (le)
                 (rate(http_request_duration_seconds_bucket{app="a",version="v"}[1m])))
"""

from __future__ import annotations

from typing import Final

# Labels present on every metric.
APP_LABEL: Final = "app"
VERSION_LABEL: Final = "version"

HTTP_REQUESTS_TOTAL: Final = "http_requests_total"
HTTP_REQUEST_DURATION_SECONDS: Final = "http_request_duration_seconds"
HTTP_REQUESTS_IN_PROGRESS: Final = "http_requests_in_progress"
UNHANDLED_EXCEPTIONS_TOTAL: Final = "unhandled_exceptions_total"
DB_QUERIES_TOTAL: Final = "db_queries_total"
DB_QUERY_ERRORS_TOTAL: Final = "db_query_errors_total"
DB_QUERY_DURATION_SECONDS: Final = "db_query_duration_seconds"
CONNECTION_POOL_IN_USE: Final = "connection_pool_in_use"
CONNECTION_POOL_CAPACITY: Final = "connection_pool_capacity"
CACHE_HITS_TOTAL: Final = "cache_hits_total"
CACHE_MISSES_TOTAL: Final = "cache_misses_total"
OPERATION_DURATION_SECONDS: Final = "operation_duration_seconds"
OPERATIONS_TOTAL: Final = "operations_total"

HTTP_REQUEST_LABELS: Final = (APP_LABEL, VERSION_LABEL, "method", "route", "status")
HTTP_DURATION_LABELS: Final = (APP_LABEL, VERSION_LABEL, "method", "route")

UNMATCHED_ROUTE: Final = "<unmatched>"
OTHER_METHOD: Final = "OTHER"
KNOWN_METHODS: Final = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)

OUTCOME_SUCCESS: Final = "success"
OUTCOME_ERROR: Final = "error"

# Fine enough to tell a 5 ms answer from an 800 ms one and from ~1 s (the p95 alert threshold).
HTTP_DURATION_BUCKETS: Final = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0,
)
# Contains the slow-query threshold (2 s) as an exact bucket boundary, so "queries slower than
# 2 s" is `_count - _bucket{le="2.0"}` in PromQL with no interpolation.
DB_DURATION_BUCKETS: Final = (
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0,
)
OPERATION_DURATION_BUCKETS: Final = HTTP_DURATION_BUCKETS

# Categories of failed queries (see `app.monitoring.queries.categorize_query_error`).
QUERY_ERROR_CATEGORIES: Final = (
    "timeout", "connection", "integrity", "syntax", "data", "other",
)
