"""`RateLimitMiddleware`: pure ASGI, so it costs microseconds and keeps context variables intact.

(Starlette's `BaseHTTPMiddleware` costs ~0.3 ms a request and breaks contextvars.) Non-HTTP scopes
(lifespan, websocket) pass straight through. Every limited response carries
``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (epoch seconds when the
client's bucket is full again). A refused request gets 429 with ``Retry-After`` and a JSON reason;
when the backend is down and the policy is fail-closed, 503 with ``Retry-After``. The limiter
never raises for backend failures, and a key function that fails falls back to a shared key, so
this middleware never turns a request into a 500.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from app.rate_limiting.native import Admit
from app.rate_limiting.protocol import RateLimitDecision, RateLimiter
from app.rate_limiting.throttling import InFlightRequests

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
KeyFunc = Callable[[Scope], str]

FALLBACK_KEY = "ip:unknown"


_DECIMALS: dict[int, bytes] = {}  # int -> its decimal bytes, for header values
_MAX_DECIMALS = 65_536


def decimal_bytes(number: int) -> bytes:
    """`b"%d" % number`, remembered: header values repeat (the limit always, the remaining
    count up to it, the reset second for a second), and a dict hit is cheaper than formatting."""
    text = _DECIMALS.get(number)
    if text is None:
        if len(_DECIMALS) >= _MAX_DECIMALS:
            _DECIMALS.clear()
        text = _DECIMALS[number] = b"%d" % number
    return text


def rate_limit_headers(decision: RateLimitDecision) -> list[tuple[bytes, bytes]]:
    """The X-RateLimit-* headers (and Retry-After when refused) for a decision."""
    allowed, limit, remaining, reset_at = decision[0], decision[1], decision[2], decision[3]
    decimals = _DECIMALS  # `decimal_bytes`, inline for the usual hits: this runs per request
    reset = math.ceil(reset_at)
    headers = [
        (b"x-ratelimit-limit", decimals.get(limit) or decimal_bytes(limit)),
        (b"x-ratelimit-remaining",
         (decimals.get(remaining) or decimal_bytes(remaining)) if remaining > 0 else b"0"),
        (b"x-ratelimit-reset", decimals.get(reset) or decimal_bytes(reset)),
    ]
    if not allowed:
        headers.append((b"retry-after", b"%d" % max(1, math.ceil(decision.retry_after))))
    return headers


def refusal_body(decision: RateLimitDecision, window_seconds: float | None) -> tuple[int, bytes]:
    """Status and JSON body for a refused request."""
    retry = max(1, math.ceil(decision.retry_after))
    if decision.degraded:
        payload = {
            "error": "rate_limiter_unavailable",
            "detail": f"The rate limiter cannot reach its backend; retry in {retry} s.",
            "retry_after": retry,
        }
        return 503, json.dumps(payload).encode()
    per = f" per {window_seconds:g} s" if window_seconds is not None else ""
    payload = {
        "error": "rate_limited",
        "detail": f"Rate limit of {decision.limit} requests{per} exceeded; retry in {retry} s.",
        "limit": decision.limit,
        "retry_after": retry,
    }
    return 429, json.dumps(payload).encode()


class RateLimitMiddleware:
    """Check every HTTP request against `limiter` under the key `key_func(scope)` returns."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: RateLimiter,
        *,
        key_func: KeyFunc,
        exempt_paths: Iterable[str] = (),
        in_flight: InFlightRequests | None = None,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.key_func = key_func
        self.exempt_paths = frozenset(exempt_paths)
        self.in_flight = in_flight
        self.window_seconds: float | None = getattr(limiter, "window_seconds", None)
        # A limiter that answers in process is asked without a coroutine (see `check_now`).
        self.check_now: Callable[[str], RateLimitDecision] | None = (
            getattr(limiter, "check_now", None)
            if getattr(limiter, "answers_in_process", False)
            else None
        )
        # Its native admit path (TokenBucketRateLimiter.admit_now), when it has one.
        self.admit_now: Admit | None = (
            getattr(limiter, "admit_now", None) if self.check_now is not None else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        # One frame for the whole request, None checks rather than a no-op counter: this runs
        # for every request, and each call costs more in a busy server than in a micro-benchmark.
        in_flight = self.in_flight
        if in_flight is not None:
            in_flight.enter()  # counted from the check on: a request waiting on Redis is load too
        try:
            decision = await self.decide(scope)
            if not decision.allowed:
                await self.refuse(send, decision)
                return
            headers = rate_limit_headers(decision)

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", ()), *headers]
                await send(message)

            await self.app(scope, receive, send_with_headers)
        finally:
            if in_flight is not None:
                in_flight.exit()

    def key(self, scope: Scope) -> str:
        """The client key of a request; a key function that fails shares one fallback bucket."""
        try:
            return self.key_func(scope)
        except Exception:  # a broken key function must not become a 500: share one bucket
            logger.exception("rate-limit key function failed; using the shared fallback key")
            return FALLBACK_KEY

    async def decide(self, scope: Scope) -> RateLimitDecision:
        """Check one request (callers keep `in_flight` up to date around it)."""
        check_now = self.check_now
        if check_now is not None:
            return check_now(self.key(scope))
        return await self.limiter.check(self.key(scope))

    async def refuse(self, send: Send, decision: RateLimitDecision) -> None:
        """Answer a refused request: 429 (over the limit) or 503 (backend down, fail-closed)."""
        status, body = refusal_body(decision, self.window_seconds)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", b"%d" % len(body)),
                    *rate_limit_headers(decision),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
