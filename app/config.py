"""Runtime settings, read from the environment (the seed's variable names).

One `Settings` object is built per `create_app(settings)` call and passed down explicitly;
nothing reads the environment at import time, so tests build apps with different settings side
by side.
"""

from __future__ import annotations

from enum import StrEnum
from ipaddress import ip_network
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    """Deployment environment; sizes pools and scaling policies."""

    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


class RedisFailureMode(StrEnum):
    """What the rate limiter does when Redis is down or slow."""

    OPEN = "open"  # admit the request (availability first; the default)
    CLOSED = "closed"  # refuse with 429/503 (protection first)


class ValidationMode(StrEnum):
    """What `ValidationMiddleware` does with a suspicious input."""

    BLOCK = "block"  # 400 with the field and the reason
    REPORT = "report"  # log + metric, the request passes


class Settings(BaseSettings):
    """Every knob of the runtime, with the seed's environment variable names."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    app_name: str = Field("floodgate", description="Service name used in metrics and logs.")
    app_version: str = Field("dev", description="Version label on every metric and response.")
    environment: Environment = Environment.DEVELOPMENT

    # Monitoring
    prometheus_metrics_enabled: bool = True
    prometheus_url: str | None = Field(None, description="Prometheus checked by /health/detailed.")
    prefect_api_url: str | None = Field(
        None, description="Prefect API checked by /health/detailed."
    )
    kubernetes_api_url: str | None = Field(
        None, description="Kubernetes API checked by /health/detailed when set."
    )
    kubernetes_api_token: SecretStr | None = Field(
        None, description="Bearer token for the Kubernetes API health check (optional)."
    )
    kubernetes_api_ca_file: str | None = Field(
        None, description="CA bundle that signed the Kubernetes API's certificate."
    )
    health_check_timeout_seconds: float = Field(1.0, gt=0, le=30)
    health_critical_components: list[str] | None = Field(
        None,
        description="Components whose failure makes /health/detailed unhealthy (503); the "
        "others only degrade it. Known: redis, rate_limiter, prometheus, prefect, kubernetes. "
        "Unset: rate_limiter, plus redis when REDIS_FAILURE_MODE=closed.",
    )
    log_level: str = Field("INFO", description="Root log level set by create_app.")
    configure_logging: bool = Field(
        True, description="Install the request-id log handler on the root logger."
    )

    # Rate limiting
    rate_limit_enabled: bool = True
    rate_limit_requests: int = Field(100, ge=1, description="Tokens per window (bucket size).")
    rate_limit_window_seconds: float = Field(60, gt=0, description="Window that refills a bucket.")
    redis_url: SecretStr | None = Field(None, description="Unset: the in-memory limiter.")
    redis_timeout_seconds: float = Field(0.05, gt=0, le=5)
    redis_failure_mode: RedisFailureMode = RedisFailureMode.OPEN
    trusted_proxies: list[str] = Field(
        default_factory=list, description="CIDRs whose X-Forwarded-For is honoured."
    )
    rate_limit_api_key_header: str = Field(
        "X-API-Key", min_length=1, description="Header whose (hashed) value keys the bucket."
    )
    rate_limit_key_prefix: str = Field(
        "floodgate:rl", min_length=1, description="Prefix of the limiter's Redis keys."
    )
    rate_limit_coalesce: bool = Field(
        True, description="Send concurrent Redis checks together as one round trip."
    )
    rate_limit_ipv6_prefix_length: int = Field(
        64, ge=1, le=128, description="IPv6 clients share a bucket per prefix of this length."
    )
    redis_breaker_threshold: int = Field(
        3, ge=1, description="Consecutive Redis failures that open the circuit breaker."
    )
    redis_breaker_cooldown_seconds: float = Field(
        1.0, gt=0, le=300, description="How long an open breaker skips Redis before retrying."
    )
    rate_limit_throttling_enabled: bool = Field(
        True, description="Lower limits while this instance is overloaded (DynamicThrottling)."
    )
    rate_limit_throttle_threshold: float = Field(
        0.8, gt=0, le=1, description="Load above which limits are lowered (1.0 = capacity)."
    )
    rate_limit_throttle_capacity: int = Field(
        256, ge=1, description="In-flight requests that count as 100 % load."
    )
    rate_limit_throttle_lag_budget_seconds: float = Field(
        0.1, gt=0, description="Event-loop lag that counts as 100 % load."
    )
    rate_limit_throttle_min_factor: float = Field(
        0.2, gt=0, le=1, description="Throttling never grants less than this share of the limit."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies_are_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
        return value

    # Validation
    validation_mode: ValidationMode = ValidationMode.BLOCK
    max_body_bytes: int = Field(1_048_576, ge=1)

    # Connection pools
    database_pool_size: int | None = Field(None, ge=1)
    database_pool_overflow: int | None = Field(None, ge=0)
    pool_load_multiplier: float = Field(
        1.0, gt=0, le=100, description="Expected load relative to normal; scales pool sizes."
    )

    # Auto-scaling (Kubernetes)
    k8s_min_replicas: int | None = Field(None, ge=1)
    k8s_max_replicas: int | None = Field(None, ge=1)
    k8s_target_cpu_percent: int | None = Field(None, ge=1, le=100)
    k8s_target_memory_percent: int | None = Field(None, ge=1, le=100)

    # Sessions
    session_ttl_seconds: int = Field(24 * 3600, ge=1)

    @field_validator("health_critical_components")
    @classmethod
    def _known_components(cls, value: list[str] | None) -> list[str] | None:
        known = {"redis", "rate_limiter", "prometheus", "prefect", "kubernetes"}
        unknown = sorted(set(value or ()) - known)
        if unknown:
            raise ValueError(f"unknown health components {unknown}; known: {sorted(known)}")
        return value

    @model_validator(mode="after")
    def _replica_bounds(self) -> Self:
        low, high = self.k8s_min_replicas, self.k8s_max_replicas
        if low is not None and high is not None and low > high:
            raise ValueError(
                f"K8S_MIN_REPLICAS ({low}) must not exceed K8S_MAX_REPLICAS ({high})"
            )
        return self
