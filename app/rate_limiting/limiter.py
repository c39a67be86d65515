"""`TokenBucketRateLimiter`: the policy that turns a client key into a `RateLimitDecision`.

A bucket holds `limit` tokens and refills `limit` tokens per window continuously, so a client
may burst up to the limit and then proceeds at limit/window — no fixed-window boundary where twice
the limit gets through. The store (memory, Redis, coalescing Redis) does the atomic arithmetic;
this class adds dynamic throttling, the failure policy, metrics and health.
"""

from __future__ import annotations

import time

from app.monitoring.health import ComponentDegraded
from app.rate_limiting.failure import BackendUnavailableError, FailurePolicy
from app.rate_limiting.metrics import NullObserver, PrometheusObserver, RateLimitObserver
from app.rate_limiting.native import Admit
from app.rate_limiting.protocol import (
    BucketStore,
    ComponentHealth,
    HealthStatus,
    InProcessBucketStore,
    RateLimitDecision,
    TakeRequest,
    TakeResult,
)
from app.rate_limiting.throttling import DynamicThrottling, EventLoopLag, InFlightRequests

MAX_KEY_LENGTH = 256
_new_decision = tuple.__new__


class TokenBucketRateLimiter:
    """`limit` requests per `window_seconds` per client key, on any `BucketStore`."""

    def __init__(
        self,
        store: BucketStore,
        *,
        limit: int = 100,
        window_seconds: float = 60.0,
        failure: FailurePolicy | None = None,
        throttling: DynamicThrottling | None = None,
        observer: RateLimitObserver | None = None,
        in_flight: InFlightRequests | None = None,
        loop_lag: EventLoopLag | None = None,
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if window_seconds <= 0:
            raise ValueError(f"window_seconds must be positive, got {window_seconds}")
        self.store = store
        self._limit = limit
        self.window_seconds = window_seconds
        self._window_ms = max(1, round(window_seconds * 1000))
        self.failure = failure or FailurePolicy()
        self.throttling = throttling
        self.observer = observer or NullObserver()
        self.in_flight = in_flight  # for RateLimitMiddleware(in_flight=limiter.in_flight)
        self.loop_lag = loop_lag
        # A store that bounds its own wait (the coalescing store) within our timeout needs no
        # second timer per check.
        store_deadline: float | None = getattr(store, "deadline_seconds", None)
        self._store_bounded = (
            store_deadline is not None and store_deadline <= self.failure.timeout_seconds
        )
        # A store without I/O (in memory) is called synchronously: no timer, no coroutine.
        self._take_now = store.take_now if isinstance(store, InProcessBucketStore) else None
        self.admit_now = self._native_admit()

    def _native_admit(self) -> Admit | None:
        """The store's native admit path (see `admit_now`), when it has one and every callback
        of an admitted check is one the native code performs: the throttled capacity, and the
        "allowed" count of the Prometheus observer (another observer keeps the Python path)."""
        make = getattr(self.store, "admit_now", None)
        if self._take_now is None or make is None:
            return None
        observer = self.observer
        if isinstance(observer, PrometheusObserver):
            counts: dict[str, int] | None = observer.checks.counts
        elif isinstance(observer, NullObserver):
            counts = None
        else:
            return None
        admit: Admit | None = make(self._limit, self._window_ms, self.throttling, counts)
        return admit

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def backend(self) -> str:
        return self.store.name

    def current_limit(self) -> int:
        """The limit enforced right now (lower than `limit` while throttled)."""
        if self.throttling is None:
            return self._limit
        return self.throttling.effective_limit(self._limit)

    # `admit_now(key)`, set in __init__ when the store has a native admit path: for an admitted
    # request, what `rate_limit_headers(check_now(key))` returns, in one native call; None when
    # the request would be refused or anything is unusual, having changed nothing (then call
    # `check_now`). The middleware's path for every request with the in-memory store.
    admit_now: Admit | None

    @property
    def answers_in_process(self) -> bool:
        """True when the store needs no I/O, so `check_now` may be called (the in-memory store)."""
        return self._take_now is not None

    def check_now(self, key: str, cost: int = 1) -> RateLimitDecision:
        """`check` without the coroutine, for a store that answers in process (see
        `answers_in_process`): the middleware's path for every request with the in-memory store,
        where creating and running a coroutine costs as much as the check itself."""
        take_now = self._take_now
        if take_now is None:
            raise RuntimeError(f"the {self.store.name} store needs I/O: await check() instead")
        if not key or len(key) > MAX_KEY_LENGTH or not 1 <= cost <= self._limit:
            self._refuse_arguments(key, cost)
        throttling = self.throttling  # current_limit(), inline: this runs for every request
        capacity = self._limit if throttling is None else throttling.effective_limit(self._limit)
        # No backend to wait for or to lose, so no timer and no breaker. An exception (a bug)
        # still takes the failure path rather than becoming a 500.
        try:
            result = take_now(key, capacity, self._window_ms, cost)
        except Exception as error:
            return self._fail(capacity, error)
        return self._decided(capacity, result)

    async def check(self, key: str, cost: int = 1) -> RateLimitDecision:
        if self._take_now is not None:
            return self.check_now(key, cost)
        if not key or len(key) > MAX_KEY_LENGTH or not 1 <= cost <= self._limit:
            self._refuse_arguments(key, cost)
        throttling = self.throttling
        capacity = self._limit if throttling is None else throttling.effective_limit(self._limit)
        request = TakeRequest(key, capacity, self._window_ms, cost)
        if self.failure.circuit_open():
            return self._fail(capacity, BackendUnavailableError("circuit_open", "breaker open"))
        try:
            if self._store_bounded:
                [result] = await self.store.take([request])
            else:
                async with self.failure.timeout():
                    [result] = await self.store.take([request])
        except Exception as error:  # any backend failure takes the documented path, never a 500
            return self._fail(capacity, error)
        if self.failure.state.consecutive_failures:
            self.failure.record_success()
        return self._decided(capacity, result)

    def _refuse_arguments(self, key: str, cost: int) -> None:
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValueError(f"key must be 1..{MAX_KEY_LENGTH} characters, got {len(key)}")
        raise ValueError(f"cost must be in 1..{self._limit}, got {cost}")

    def _decided(self, capacity: int, result: TakeResult) -> RateLimitDecision:
        allowed = result[0]  # TakeResult by position: this runs for every request
        self.observer.decision("allowed" if allowed else "refused")
        # allowed, limit, remaining, reset_at, retry_after, degraded; tuple.__new__ skips the
        # NamedTuple's Python-level __new__ (this runs for every request)
        return _new_decision(RateLimitDecision, (
            allowed, capacity, result[1], (result[4] + result[3]) / 1000.0, result[2] / 1000.0,
            False,
        ))

    def _fail(self, capacity: int, error: Exception) -> RateLimitDecision:
        if isinstance(error, BackendUnavailableError) and error.kind == "circuit_open":
            kind = error.kind
        else:
            kind = self.failure.record_failure(error)
        self.observer.backend_error(self.store.name, kind)
        decision = self.failure.fallback(capacity, time.time())
        self.observer.decision("failed_open" if decision.allowed else "failed_closed")
        return decision

    async def health(self) -> ComponentHealth:
        """Ping the backend (bounded by the timeout) and report the failure state."""
        state = self.failure.state
        started = time.perf_counter()
        error = ""
        try:
            async with self.failure.timeout():
                await self.store.ping()
        except Exception as exc:  # health reports failures; it never raises them
            error = f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        status: HealthStatus = "healthy"
        detail = f"{self.store.name} backend answering"
        if error or self.failure.circuit_open():
            failing = "admitting requests unchecked (fail-open)"
            if self.failure.mode.value == "closed":
                failing = "refusing requests with 503 (fail-closed)"
            status = "degraded" if self.failure.mode.value == "open" else "unhealthy"
            reason = error or state.last_error
            detail = f"{self.store.name} backend unavailable: {reason}; {failing}"
        return ComponentHealth(
            name="rate_limiter",
            status=status,
            detail=detail,
            backend=self.store.name,
            failure_mode=self.failure.mode.value,
            latency_ms=None if error else latency_ms,
            consecutive_failures=state.consecutive_failures,
            failures_total=state.failures_total,
        )

    async def probe(self) -> None:
        """`app.monitoring.health` probe: returns when healthy, raises `ComponentDegraded` while
        failing open (requests pass unchecked), raises `BackendUnavailableError` while failing
        closed (requests get 503)."""
        health = await self.health()
        if health["status"] == "degraded":
            raise ComponentDegraded(health["detail"])
        if health["status"] == "unhealthy":
            raise BackendUnavailableError("unhealthy", health["detail"])

    async def start(self) -> None:
        """Register scripts and start the loop-lag timer; a down Redis here is not fatal."""
        if self.loop_lag is not None:
            self.loop_lag.start()
        try:
            async with self.failure.timeout():
                await self.store.start()
        except Exception as error:  # start degraded; NOSCRIPT fallback registers later
            self.observer.backend_error(self.store.name, self.failure.record_failure(error))

    async def aclose(self) -> None:
        if self.loop_lag is not None:
            await self.loop_lag.stop()
        await self.store.aclose()
