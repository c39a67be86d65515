"""Runtime monitoring: Prometheus metrics, alert rules, health checks and correlation ids.

Public surface: `MetricsCollector`, `PrometheusMiddleware`, `track_request_metrics`,
`AlertingRules` / `alert_rules_yaml`, `HealthCheckCollector`, `CorrelationIdMiddleware`,
`configure_logging`. Metric names and labels are documented in `app.monitoring.names`.
"""

from app.monitoring.alerting import AlertingRules, AlertThresholds, alert_rules_yaml
from app.monitoring.correlation import CorrelationIdMiddleware, current_request_id
from app.monitoring.health import HealthCheckCollector, HealthReport, OverallStatus
from app.monitoring.logging import RequestIdFilter, configure_logging
from app.monitoring.metrics import MetricsCollector
from app.monitoring.middleware import PrometheusMiddleware
from app.monitoring.tracking import track_request_metrics

__all__ = [
    "AlertThresholds",
    "AlertingRules",
    "CorrelationIdMiddleware",
    "HealthCheckCollector",
    "HealthReport",
    "MetricsCollector",
    "OverallStatus",
    "PrometheusMiddleware",
    "RequestIdFilter",
    "alert_rules_yaml",
    "configure_logging",
    "current_request_id",
    "track_request_metrics",
]
