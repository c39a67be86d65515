"""Coalesce concurrent checks into one store call: the batch rides one Redis round trip.

Why: at 32 concurrent requests a Redis-backed limiter spends its time on per-command client
overhead, not in Redis. Here a check that arrives while a batch is in flight waits for that batch to
return and then goes out with every other check queued meanwhile, as one `take` (one EVALSHA over
many keys). A lone check goes out at once from its caller's task, so a single client pays no
hand-off and nothing waits for a timer.

Exactness is the inner store's: each bucket in the batch is taken atomically by the same script as
a direct call, in arrival order. A caller that is cancelled before its batch leaves is dropped from
the batch; one cancelled after it left just does not read its answer (the tokens are spent, as for
a request cancelled after a direct call). A batch that hangs fails every check in it after
`timeout` seconds — or, with no `timeout`, after the inner store's own `deadline_seconds` (the
Redis store bounds every call itself, so no timer per batch is needed) — so a wedged Redis cannot
stall the queue behind it. A check therefore waits at most for the batch in flight plus its own:
`deadline_seconds` = 2 x that bound, which lets the limiter skip a timer of its own per check.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from app.rate_limiting.protocol import BucketStore, ExtraTokens, TakeRequest, TakeResult

_Pending = tuple[TakeRequest, "asyncio.Future[TakeResult]"]


class CoalescingBucketStore:
    """Wraps a `BucketStore`; same contract, fewer round trips under concurrency."""

    def __init__(
        self, inner: BucketStore, *, max_batch: int = 256, timeout: float | None = None
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.inner = inner
        self.name = inner.name
        self.max_batch = max_batch
        self.timeout = timeout  # None: the inner store bounds each call by itself (or nothing does)
        batch_bound: float | None = (
            timeout if timeout is not None else getattr(inner, "deadline_seconds", None)
        )
        self.deadline_seconds = None if batch_bound is None else 2 * batch_bound
        self._queue: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self._inline_busy = False
        self._last_batch_size = 1
        self.batches_sent = 0  # observable by tests and the bench: proof that batching happens

    async def take(self, requests: Sequence[TakeRequest]) -> list[TakeResult]:
        if (
            self._flusher is None
            and not self._inline_busy
            and len(requests) == 1
            and self._last_batch_size <= 1
        ):
            # Nothing in flight and traffic is sequential: send from the caller's own task (no
            # hand-off, written out here rather than in a helper: one coroutine less per check).
            # Taken only while the last batch held a single check: under concurrency, the
            # callers woken by one batch must all reach the queue before the next batch leaves,
            # which the flusher task guarantees (it runs after them). The inline batch holds only
            # this caller's check, so its cancellation or failure touches nobody else; checks
            # that arrive meanwhile queue and leave together once it is back.
            self._inline_busy = True
            self.batches_sent += 1
            try:
                if self.timeout is None:
                    return await self.inner.take(requests)
                async with asyncio.timeout(self.timeout):
                    return await self.inner.take(requests)
            finally:
                self._inline_busy = False
                if self._queue and self._flusher is None:
                    self._flusher = asyncio.get_running_loop().create_task(self._drain())
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[TakeResult]] = [loop.create_future() for _ in requests]
        self._queue.extend(zip(requests, futures, strict=True))
        if self._flusher is None and not self._inline_busy:
            self._flusher = loop.create_task(self._drain())
        if len(futures) == 1:
            return [await futures[0]]
        return list(await asyncio.gather(*futures))

    async def _drain(self) -> None:
        """Send queued checks batch after batch until the queue is empty, then exit."""
        try:
            while self._queue:
                batch = [item for item in self._queue[: self.max_batch] if not item[1].done()]
                del self._queue[: self.max_batch]
                if batch:
                    await self._send(batch)
        except asyncio.CancelledError:  # loop shutting down: nobody must wait forever
            _fail(self._queue, RuntimeError("rate-limit batcher was cancelled"))
            self._queue.clear()
            raise
        finally:
            self._flusher = None

    async def _send(self, batch: list[_Pending]) -> None:
        self.batches_sent += 1
        self._last_batch_size = len(batch)
        try:
            requests = [request for request, _ in batch]
            if self.timeout is None:
                results = await self.inner.take(requests)
            else:
                async with asyncio.timeout(self.timeout):
                    results = await self.inner.take(requests)
            if len(results) != len(batch):
                raise RuntimeError(f"store answered {len(results)} of {len(batch)} checks")
        except Exception as error:  # the batch's callers each get the store's failure
            _fail(batch, error)
            return
        except asyncio.CancelledError:
            _fail(batch, RuntimeError("rate-limit batch was cancelled"))
            raise
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def grant_extra(self, key: str, tokens: int, ttl_ms: int) -> ExtraTokens:
        return await self.inner.grant_extra(key, tokens, ttl_ms)

    async def extra(self, key: str) -> ExtraTokens:
        return await self.inner.extra(key)

    async def revoke_extra(self, key: str) -> None:
        await self.inner.revoke_extra(key)

    async def start(self) -> None:
        await self.inner.start()

    async def ping(self) -> None:
        await self.inner.ping()

    async def aclose(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self.inner.aclose()


def _fail(items: Sequence[_Pending], error: Exception) -> None:
    for _, future in items:
        if not future.done():
            future.set_exception(error)
