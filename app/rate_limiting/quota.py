"""`QuotaManager`: per-subject, per-feature usage quotas over UTC calendar days and months.

Rate limits protect the service over seconds; quotas meter a business resource over days, e.g.
"deploys per team per day" or "analyses per user per month". A feature may have a daily and a
monthly limit at once; a charge counts against both or neither. Periods roll over on UTC calendar
boundaries (midnight UTC, the 1st of the month), not 24 h after first use, so every instance and
every user agrees on when a quota resets.

The clock is injected (a callable returning an aware UTC `datetime`) so tests can cross midnight
and month ends. Each instance's clock picks the period label; skew between instances only matters
within seconds of a boundary. Backend failures follow the same `FailurePolicy` as the limiter:
fail-open charges nothing and allows; fail-closed refuses; both are marked `degraded` and counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from app.rate_limiting.failure import FailurePolicy
from app.rate_limiting.metrics import NullObserver, RateLimitObserver
from app.rate_limiting.quota_store import QuotaCounter, QuotaStore

UTCClock = Callable[[], datetime]
EXPIRY_GRACE = timedelta(hours=1)
_NAME = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")


class QuotaPeriod(StrEnum):
    DAILY = "daily"
    MONTHLY = "monthly"


@dataclass(frozen=True, slots=True)
class PeriodWindow:
    """One calendar period: its key label and its [start, end) in UTC."""

    label: str
    starts_at: datetime
    ends_at: datetime


def period_window(period: QuotaPeriod, now: datetime) -> PeriodWindow:
    """The UTC calendar period containing `now` (which must be timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("the quota clock must return timezone-aware datetimes")
    now = now.astimezone(UTC)
    if period is QuotaPeriod.DAILY:
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return PeriodWindow(start.strftime("%Y-%m-%d"), start, start + timedelta(days=1))
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(
        month=start.month + 1
    )
    return PeriodWindow(start.strftime("%Y-%m"), start, end)


@dataclass(frozen=True, slots=True)
class Quota:
    """The limits of one feature, e.g. ``Quota("deploys", {QuotaPeriod.DAILY: 10})``."""

    feature: str
    limits: Mapping[QuotaPeriod, int]

    def __post_init__(self) -> None:
        if not _NAME.match(self.feature):
            raise ValueError(f"feature {self.feature!r} must match {_NAME.pattern}")
        if not self.limits:
            raise ValueError(f"quota {self.feature!r} needs at least one period limit")
        for period, limit in self.limits.items():
            QuotaPeriod(period)
            if limit < 1:
                raise ValueError(f"quota {self.feature!r} {period} limit must be >= 1, got {limit}")


@dataclass(frozen=True, slots=True)
class PeriodUsage:
    period: QuotaPeriod
    limit: int
    used: int
    resets_at: datetime

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


@dataclass(frozen=True, slots=True)
class QuotaDecision:
    """Outcome of a charge: allowed or not, and the usage of every period after it."""

    allowed: bool
    feature: str
    subject: str
    periods: tuple[PeriodUsage, ...]
    degraded: bool = False

    @property
    def resets_at(self) -> datetime | None:
        """When a refused charge could next succeed: the latest reset among exhausted periods."""
        exhausted = [p.resets_at for p in self.periods if p.remaining == 0]
        return max(exhausted) if exhausted else None


class UnknownFeatureError(KeyError):
    """A quota was asked for a feature nobody configured."""


class QuotaManager:
    """Charge and read quotas; `store` is `MemoryQuotaStore` or `RedisQuotaStore`."""

    def __init__(
        self,
        store: QuotaStore,
        quotas: Iterable[Quota],
        *,
        clock: UTCClock = lambda: datetime.now(UTC),
        prefix: str = "floodgate:quota",
        failure: FailurePolicy | None = None,
        observer: RateLimitObserver | None = None,
    ) -> None:
        self.store = store
        self.quotas = {quota.feature: quota for quota in quotas}
        self.clock = clock
        self.prefix = prefix
        self.failure = failure or FailurePolicy()
        self.observer = observer or NullObserver()

    def _quota(self, feature: str) -> Quota:
        try:
            return self.quotas[feature]
        except KeyError:
            known = ", ".join(sorted(self.quotas)) or "none"
            message = f"unknown quota feature {feature!r}; known: {known}"
            raise UnknownFeatureError(message) from None

    async def consume(self, subject: str, feature: str, amount: int = 1) -> QuotaDecision:
        """Charge `amount` to `subject`'s `feature` in every period, or charge nothing."""
        if amount < 1:
            raise ValueError(f"amount must be at least 1, got {amount}")
        return await self._charge(subject, feature, amount)

    async def usage(self, subject: str, feature: str) -> QuotaDecision:
        """Current usage without charging (`allowed` says whether one more unit would fit)."""
        decision = await self._charge(subject, feature, 0)
        fits = all(p.used + 1 <= p.limit for p in decision.periods)
        return QuotaDecision(fits, feature, subject, decision.periods, decision.degraded)

    async def _charge(self, subject: str, feature: str, amount: int) -> QuotaDecision:
        if not _NAME.match(subject):
            raise ValueError(f"subject {subject!r} must match {_NAME.pattern}")
        quota = self._quota(feature)
        now = self.clock()
        windows = {period: period_window(period, now) for period in quota.limits}
        counters = [
            QuotaCounter(
                key=f"{self.prefix}:{feature}:{period.value}:{window.label}:{subject}",
                limit=quota.limits[period],
                ttl_ms=int((window.ends_at + EXPIRY_GRACE - now).total_seconds() * 1000),
            )
            for period, window in windows.items()
        ]
        try:
            async with self.failure.timeout():
                result = await self.store.charge(counters, amount)
        except Exception as error:  # documented failure path: open or closed, never a raise
            kind = self.failure.record_failure(error)
            self.observer.backend_error(self.store.name, kind)
            allowed = self.failure.fallback(1, now.timestamp()).allowed
            self.observer.quota(feature, "failed_open" if allowed else "failed_closed")
            periods = tuple(
                PeriodUsage(p, quota.limits[p], 0, w.ends_at) for p, w in windows.items()
            )
            return QuotaDecision(allowed, feature, subject, periods, degraded=True)
        self.failure.record_success()
        if amount:
            self.observer.quota(feature, "allowed" if result.allowed else "refused")
        periods = tuple(
            PeriodUsage(period, quota.limits[period], used, windows[period].ends_at)
            for period, used in zip(windows, result.used, strict=True)
        )
        return QuotaDecision(result.allowed, feature, subject, periods)

    async def start(self) -> None:
        """Register the quota script; a down backend here is not fatal (NOSCRIPT falls back)."""
        try:
            async with self.failure.timeout():
                await self.store.start()
        except Exception as error:
            self.observer.backend_error(self.store.name, self.failure.record_failure(error))

    async def aclose(self) -> None:
        await self.store.aclose()
