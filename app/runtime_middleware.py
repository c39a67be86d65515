"""`RuntimeMiddleware`: correlation id, metrics, rate limit and validation in ONE ASGI layer.

`create_app` installs this rather than the four middlewares stacked, with the same order and the
same answers (tests/app/test_runtime_middleware.py runs both on the same requests):

1. correlation id — set first, so every answer (a 429, a 400, a 500) and every log line has it;
2. metrics — every request is counted and timed, refused ones too (by the route they were for);
3. rate limit — refuses before any body is read; admitted answers get the X-RateLimit-* headers;
4. validation — size limits and screening; its 400/413 answers carry the rate-limit headers.

Why one layer: every ASGI layer costs a coroutine, a closure and a `send` wrapper per request,
and a request's response messages pass through every wrapper; with a bare FastAPI GET at ~45 us
of CPU, those microseconds are a visible share. One layer calling the same four steps pays that
once (bench/middleware_stack.py times both, bench/middleware_instructions.py counts their
instructions and cache misses). The steps are the four middlewares' own methods, so their
standalone classes stay the single place each concern is implemented, and embedders can still
stack them separately.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Iterable, Sequence

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.monitoring.correlation import request_id_of, request_id_var, with_request_id
from app.monitoring.metrics import MetricsCollector
from app.rate_limiting.middleware import KeyFunc, RateLimitMiddleware, rate_limit_headers
from app.rate_limiting.protocol import RateLimiter
from app.rate_limiting.throttling import InFlightRequests
from app.validation.middleware import ValidationMiddleware


class RuntimeMiddleware:
    """The runtime's per-request work, configured as `install_middleware` configured the four.

    Request metrics follow `settings.prometheus_metrics_enabled`; `limiter` None means no rate
    limit. `unlimited_paths` (exact) are never rate limited; `unvalidated_prefixes` skip
    validation: probes and scrapes. Suspicious inputs are counted on `collector.registry`.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        collector: MetricsCollector,
        routes: Sequence[BaseRoute] = (),
        limiter: RateLimiter | None = None,
        key_func: KeyFunc | None = None,
        in_flight: InFlightRequests | None = None,
        unlimited_paths: Iterable[str] = (),
        unvalidated_prefixes: Iterable[str] = (),
    ) -> None:
        if limiter is not None and key_func is None:
            raise ValueError("a rate limiter needs a key_func")
        self.app = app
        self.metrics = collector if settings.prometheus_metrics_enabled else None
        self.http = self.metrics.http if self.metrics is not None else None
        self.routes = routes
        self.rate_limit = (
            RateLimitMiddleware(app, limiter, key_func=key_func, in_flight=in_flight,
                                exempt_paths=unlimited_paths)
            if limiter is not None and key_func is not None
            else None
        )
        self.validation = ValidationMiddleware(
            app, settings, registry=collector.registry, exempt_paths=unvalidated_prefixes
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id, id_header = request_id_of(scope)
        state = scope.get("state")
        if state is None:
            scope["state"] = {"request_id": request_id}
        else:
            state["request_id"] = request_id
        token = request_id_var.set(request_id)
        added: list[tuple[bytes, bytes]] = []  # the rate-limit headers, once admitted
        status = 500

        def send_with_headers(message: Message) -> Awaitable[None]:
            """Not a coroutine: it returns the server's own awaitable (one frame less a message)."""
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # The app's headers, the rate limit's, the request id: as the four stacked.
                message["headers"] = with_request_id(message.get("headers", ()), id_header, added)
            return send(message)

        metrics = self.metrics
        http = self.http
        outer_root_path: str = scope.get("root_path", "")
        started = time.perf_counter()
        if http is not None:
            http.in_progress += 1
        in_flight: InFlightRequests | None = None
        try:
            rate_limit = self.rate_limit
            if rate_limit is not None and scope["path"] not in rate_limit.exempt_paths:
                in_flight = rate_limit.in_flight
                if in_flight is not None:
                    in_flight.current += 1  # `enter()`, inline
                check_now = rate_limit.check_now
                if check_now is not None:  # `rate_limit.decide`, inline for the in-memory store
                    try:
                        key = rate_limit.key_func(scope)
                    except Exception:
                        key = rate_limit.key(scope)  # fails again: logged, the fallback key
                    admit_now = rate_limit.admit_now
                    headers = None
                    if admit_now is not None:  # native: the headers of an admitted request
                        try:
                            headers = admit_now(key)
                        except Exception:  # changed nothing: the Python path decides
                            headers = None
                    if headers is None:
                        decision = check_now(key)
                        if not decision.allowed:
                            await rate_limit.refuse(send_with_headers, decision)
                            return
                        headers = rate_limit_headers(decision)
                    added = headers  # a new list per request: the send wrapper reads it
                else:
                    decision = await rate_limit.decide(scope)
                    if not decision.allowed:
                        await rate_limit.refuse(send_with_headers, decision)
                        return
                    added = rate_limit_headers(decision)
            app_receive: Receive | None = receive
            validation = self.validation
            if validation.has_work(scope):
                app_receive = await validation.admit(scope, receive, send_with_headers)
            if app_receive is not None:
                await self.app(scope, app_receive, send_with_headers)
        except Exception as error:
            status = 500
            if metrics is not None:
                metrics.record_unhandled_exception(error)
            raise
        finally:
            if in_flight is not None and in_flight.current > 0:  # `exit()`, inline
                in_flight.current -= 1
            if http is not None:
                http.in_progress -= 1
                http.observe_request(scope, status, started, outer_root_path, self.routes)
            request_id_var.reset(token)
