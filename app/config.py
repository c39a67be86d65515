"""Runtime settings, read from the environment (the seed's variable names).

One `Settings` object is built per `create_app(settings)` call and passed down explicitly;
nothing reads the environment at import time, so tests build apps with different settings side
by side.
"""

from __future__ import annotations

from enum import StrEnum
from ipaddress import ip_network
from pathlib import Path
from typing import Self

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEPLOYMENT_NAME = r"^[^/\s]+/[^/\s]+$"  # "<flow name>/<deployment name>"
MIN_SECRET_LENGTH = 16


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
    environment: Environment = Field(
        Environment.DEVELOPMENT, description="Sizes connection pools and scaling policies."
    )

    # Monitoring
    prometheus_metrics_enabled: bool = Field(True, description="Serve GET /metrics.")
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
    health_check_timeout_seconds: float = Field(
        1.0, gt=0, le=30, description="Bound on each dependency check of /health/detailed."
    )
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
    rate_limit_enabled: bool = Field(True, description="Apply RateLimitMiddleware.")
    rate_limit_requests: int = Field(100, ge=1, description="Tokens per window (bucket size).")
    rate_limit_window_seconds: float = Field(60, gt=0, description="Window that refills a bucket.")
    redis_url: SecretStr | None = Field(None, description="Unset: the in-memory limiter.")
    redis_timeout_seconds: float = Field(
        0.05, gt=0, le=5, description="Longest a rate-limit check waits for Redis."
    )
    redis_failure_mode: RedisFailureMode = Field(
        RedisFailureMode.OPEN,
        description="Redis down or slow: admit (open) or refuse with 503 (closed).",
    )
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
    validation_mode: ValidationMode = Field(
        ValidationMode.BLOCK,
        description="Suspicious input: 400 naming the field (block) or log + metric (report).",
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1, description="Larger bodies get 413 while streaming, before buffering."
    )
    validation_unscreened_paths: list[str] = Field(
        default_factory=list,
        description="Paths (and what lies below them) whose bodies keep MAX_BODY_BYTES but are "
        "not screened for injection: authenticated configuration endpoints whose values may "
        "look like SQL. The control API always adds /rollouts and /webhooks/.",
    )

    @field_validator("validation_unscreened_paths")
    @classmethod
    def _unscreened_paths_are_paths(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not entry.startswith("/"):
                raise ValueError(f"{entry!r} is not a path (it must start with '/')")
        return value

    # Connection pools
    database_pool_size: int | None = Field(
        None, ge=1, description="Overrides the pool base size (dev 5, staging 10, prod 20)."
    )
    database_pool_overflow: int | None = Field(
        None, ge=0, description="Overrides the overflow (default 50 % of the base)."
    )
    pool_load_multiplier: float = Field(
        1.0, gt=0, le=100, description="Expected load relative to normal; scales pool sizes."
    )

    # Auto-scaling (Kubernetes)
    k8s_min_replicas: int | None = Field(None, ge=1, description="HPA minReplicas override.")
    k8s_max_replicas: int | None = Field(None, ge=1, description="HPA maxReplicas override.")
    k8s_target_cpu_percent: int | None = Field(
        None, ge=1, le=100, description="HPA CPU utilisation target override."
    )
    k8s_target_memory_percent: int | None = Field(
        None, ge=1, le=100, description="HPA memory utilisation target override."
    )

    # Sessions
    session_ttl_seconds: int = Field(
        24 * 3600, ge=1, description="Lifetime of a WebSocket session in Redis."
    )

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

    # Control API (app.control): starts rollouts through Prefect deployments by name
    prefect_api_key: SecretStr | None = Field(
        None, description="Prefect Cloud API key (unset for a self-hosted Prefect server)."
    )
    prefect_ui_url: str | None = Field(
        None,
        description="Prefect UI base URL for the watch links; unset: PREFECT_API_URL minus /api.",
    )
    control_prefect_timeout_seconds: float = Field(
        5.0, gt=0, le=60, description="Deadline of each Prefect API call (then 503, no retry)."
    )
    control_target: str = Field(
        "local",
        min_length=1,
        validation_alias=AliasChoices("control_target", "floodgate_target"),
        description="Target the control API steers: 'local' or a saved target block name "
        "(env CONTROL_TARGET or FLOODGATE_TARGET, the name `flows.serve` also reads).",
    )
    floodgate_home: Path | None = Field(
        None, description="State directory of the local target; unset: ./.floodgate."
    )
    control_deploy_deployment: str = Field(
        "deploy/rollout", pattern=DEPLOYMENT_NAME, description="Deployment that rolls out."
    )
    control_rollback_deployment: str = Field(
        "rollback/restore", pattern=DEPLOYMENT_NAME, description="Deployment that rolls back."
    )
    control_progress_deployment: str = Field(
        "progress/every-minute",
        pattern=DEPLOYMENT_NAME,
        description="Scheduled tick, also run at once after a promote/abort nobody drives.",
    )
    control_api_tokens: list[SecretStr] = Field(
        default_factory=list,
        description="Bearer tokens of the operator endpoints (JSON list; several allow "
        "rotation). None set: those endpoints answer 503, never run open.",
    )
    control_webhook_secrets: list[SecretStr] = Field(
        default_factory=list,
        description="HMAC-SHA256 secrets of POST /webhooks/ci (JSON list; any one matches). "
        "None set: the webhook answers 503.",
    )
    control_webhook_tolerance_seconds: float = Field(
        300, gt=0, le=3600, description="Webhooks signed further from now than this are refused."
    )

    @field_validator("control_api_tokens", "control_webhook_secrets")
    @classmethod
    def _long_secrets(cls, value: list[SecretStr]) -> list[SecretStr]:
        for index, secret in enumerate(value):
            if len(secret.get_secret_value()) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"entry {index} is shorter than {MIN_SECRET_LENGTH} characters; "
                    "use e.g. `openssl rand -hex 32`"
                )
        return value
