"""`track_request_metrics()`: duration and outcome metrics for work that is not an HTTP request.

Background jobs, queue consumers and scheduled tasks never pass through the HTTP middleware;
decorating them records `operations_total{operation,outcome}` and
`operation_duration_seconds{operation}`, and an exception that escapes is also counted in
`unhandled_exceptions_total` (then re-raised unchanged).
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar, cast

from app.monitoring.metrics import MetricsCollector
from app.monitoring.names import OUTCOME_ERROR, OUTCOME_SUCCESS

P = ParamSpec("P")
R = TypeVar("R")


def track_request_metrics(
    collector: MetricsCollector, operation: str | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a sync or async function; `operation` defaults to its qualified name."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        name = operation or func.__qualname__

        def finish(start: float, error: BaseException | None) -> None:
            outcome = OUTCOME_SUCCESS if error is None else OUTCOME_ERROR
            collector.observe_operation(name, time.perf_counter() - start, outcome)
            if error is not None:
                collector.record_unhandled_exception(error)

        if inspect.iscoroutinefunction(func):
            async_func = cast(Callable[P, Awaitable[Any]], func)

            @functools.wraps(func)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                start = time.perf_counter()
                try:
                    result = await async_func(*args, **kwargs)
                except Exception as error:
                    finish(start, error)
                    raise
                finish(start, None)
                return result

            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(func)
        def sync_wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            start = time.perf_counter()
            try:
                result = func(*args, **kwargs)
            except Exception as error:
                finish(start, error)
                raise
            finish(start, None)
            return result

        return sync_wrapper

    return decorate
