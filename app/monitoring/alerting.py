"""`AlertingRules`: the seed's alert thresholds as a Prometheus rules file.

Thresholds (seed defaults, all overridable through `AlertThresholds`):
* error rate (5xx / all requests) above 5 % over 5 min          FloodgateHighErrorRate
* p95 request latency above 1 s over 5 min                       FloodgateHighLatencyP95
* a connection pool more than 90 % checked out                   FloodgateConnectionPoolExhaustion
* cache hit rate below 60 % over 10 min                          FloodgateLowCacheHitRate
* more than 10 unhandled exceptions in 5 min                     FloodgateUnhandledExceptions
* any database query slower than 2 s in the last 5 min           FloodgateSlowQueries

Every expression aggregates `by (app, version)` so a bad canary version alerts on its own.
The rules are verified by `promtool check rules` and unit-tested with `promtool test rules`
(tests/app/monitoring/alert_rules_test.yml), each alert both firing and staying quiet.
`floodgate alert-rules` prints `alert_rules_yaml()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from prometheus_client.utils import floatToGoString

from app.monitoring import names

_BY = "app, version"
# Scrapes and health probes are excluded from the HTTP alerts, as in the canary analysis
# (blocks/prometheus.py): Prometheus calls /metrics every scrape interval and load balancers
# probe /health, and their fast 200s would dilute a real error rate or latency.
EXCLUDED_ROUTES = "/metrics|/health.*"
_SERVED = f'route!~"{EXCLUDED_ROUTES}"'


@dataclass(frozen=True)
class AlertThresholds:
    """What counts as bad; `for_*` are how long it must last before the alert fires."""

    error_rate: float = 0.05
    p95_latency_seconds: float = 1.0
    pool_usage: float = 0.90
    cache_hit_rate: float = 0.60
    unhandled_exceptions_per_5m: int = 10
    slow_query_seconds: float = 2.0
    for_error_rate: str = "2m"
    for_latency: str = "5m"
    for_pool: str = "2m"
    for_cache: str = "10m"

    def __post_init__(self) -> None:
        for field in ("error_rate", "pool_usage", "cache_hit_rate"):
            value = getattr(self, field)
            if not 0 < value <= 1:
                raise ValueError(f"{field} is a fraction in (0, 1], got {value}")
        if self.p95_latency_seconds <= 0 or self.unhandled_exceptions_per_5m < 0:
            raise ValueError("p95_latency_seconds must be > 0, unhandled_exceptions_per_5m >= 0")
        if self.slow_query_seconds not in names.DB_DURATION_BUCKETS:
            raise ValueError(
                f"slow_query_seconds must be a bucket of {names.DB_QUERY_DURATION_SECONDS} "
                f"{names.DB_DURATION_BUCKETS}, got {self.slow_query_seconds}"
            )


class AlertingRules:
    """Builds the rule group as plain data; `to_yaml()` is the file Prometheus loads."""

    group_name = "floodgate"

    def __init__(self, thresholds: AlertThresholds | None = None) -> None:
        self.thresholds = thresholds or AlertThresholds()

    def rules(self) -> list[dict[str, Any]]:
        t = self.thresholds
        return [
            _alert(
                "FloodgateHighErrorRate",
                f"sum by ({_BY}) "
                f'(rate({names.HTTP_REQUESTS_TOTAL}{{{_SERVED},status=~"5.."}}[5m]))\n'
                f"  / sum by ({_BY}) (rate({names.HTTP_REQUESTS_TOTAL}{{{_SERVED}}}[5m]))\n"
                f"> {t.error_rate:g}",
                t.for_error_rate, "critical",
                "High HTTP error rate on {{ $labels.app }} {{ $labels.version }}",
                "{{ $value | humanizePercentage }} of requests failed with 5xx over 5m "
                f"(threshold {t.error_rate:.0%}).",
            ),
            _alert(
                "FloodgateHighLatencyP95",
                f"histogram_quantile(0.95, sum by ({_BY}, le) "
                f"(rate({names.HTTP_REQUEST_DURATION_SECONDS}_bucket{{{_SERVED}}}[5m])))\n"
                f"> {t.p95_latency_seconds:g}",
                t.for_latency, "warning",
                "Slow responses on {{ $labels.app }} {{ $labels.version }}",
                "p95 latency is {{ $value | humanizeDuration }} over 5m "
                f"(threshold {t.p95_latency_seconds:g}s).",
            ),
            _alert(
                "FloodgateConnectionPoolExhaustion",
                f"max by ({_BY}, pool) ({names.CONNECTION_POOL_IN_USE}\n"
                f"  / ({names.CONNECTION_POOL_CAPACITY} > 0))\n"
                f"> {t.pool_usage:g}",
                t.for_pool, "critical",
                "Pool {{ $labels.pool }} nearly exhausted on {{ $labels.app }}",
                "{{ $value | humanizePercentage }} of the pool's connections are in use "
                f"(threshold {t.pool_usage:.0%}).",
            ),
            _alert(
                "FloodgateLowCacheHitRate",
                f"sum by ({_BY}, cache) (rate({names.CACHE_HITS_TOTAL}[10m]))\n"
                f"  / (sum by ({_BY}, cache) (rate({names.CACHE_HITS_TOTAL}[10m]))\n"
                f"     + sum by ({_BY}, cache) (rate({names.CACHE_MISSES_TOTAL}[10m])))\n"
                f"< {t.cache_hit_rate:g}",
                t.for_cache, "warning",
                "Low hit rate on cache {{ $labels.cache }} of {{ $labels.app }}",
                "Only {{ $value | humanizePercentage }} of lookups hit over 10m "
                f"(threshold {t.cache_hit_rate:.0%}).",
            ),
            _alert(
                "FloodgateUnhandledExceptions",
                f"sum by ({_BY}) (increase({names.UNHANDLED_EXCEPTIONS_TOTAL}[5m]))\n"
                f"> {t.unhandled_exceptions_per_5m}",
                None, "critical",
                "Unhandled exceptions on {{ $labels.app }} {{ $labels.version }}",
                "{{ $value | humanize }} unhandled exceptions in 5m "
                f"(threshold {t.unhandled_exceptions_per_5m}).",
            ),
            _alert(
                "FloodgateSlowQueries",
                self._slow_query_expr(),
                None, "warning",
                "Slow {{ $labels.operation }} queries on {{ $labels.app }}",
                "{{ $value | humanize }} queries took longer than "
                f"{t.slow_query_seconds:g}s in the last 5m.",
            ),
        ]

    def _slow_query_expr(self) -> str:
        # Queries slower than the threshold = all queries - those in the bucket le=threshold.
        # `le` is matched as "2" or "2.0": prometheus_client writes "2.0", Prometheus 3
        # normalises classic-histogram `le` values, so accept both spellings.
        le: str = floatToGoString(self.thresholds.slow_query_seconds)  # type: ignore[no-untyped-call]
        optional_zero = "(\\\\.0)?" if le.endswith(".0") else ""
        le_pattern = le.removesuffix(".0").replace(".", "\\\\.") + optional_zero
        series = names.DB_QUERY_DURATION_SECONDS
        by = f"{_BY}, operation"
        return (
            f"sum by ({by}) (increase({series}_count[5m]))\n"
            f'  - sum by ({by}) (increase({series}_bucket{{le=~"{le_pattern}"}}[5m]))\n'
            "> 0"
        )

    def rule_groups(self) -> dict[str, Any]:
        return {"groups": [{"name": self.group_name, "rules": self.rules()}]}

    def to_yaml(self) -> str:
        return yaml.dump(self.rule_groups(), Dumper=_RulesDumper, sort_keys=False, width=100)


def alert_rules_yaml(thresholds: AlertThresholds | None = None) -> str:
    """The rules file text, for `floodgate alert-rules > floodgate-rules.yml`."""
    return AlertingRules(thresholds).to_yaml()


class _RulesDumper(yaml.SafeDumper):
    """Writes multi-line strings (the PromQL) as literal blocks, readable in review."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_RulesDumper.add_representer(str, _str_representer)


def _alert(
    name: str, expr: str, for_: str | None, severity: str, summary: str, description: str
) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if for_ is not None:
        rule["for"] = for_
    rule["labels"] = {"severity": severity}
    rule["annotations"] = {"summary": summary, "description": description}
    return rule
