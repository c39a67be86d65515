"""The batcher: what leaves together, what a cancelled caller costs, what a hung batch does.

`GatedStore` is a fake behind our own `BucketStore` protocol (a memory store whose `take` waits
for a gate), so the tests decide exactly when a batch is "in flight".
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from app.rate_limiting.coalescing import CoalescingBucketStore
from app.rate_limiting.memory import MemoryBucketStore
from app.rate_limiting.protocol import TakeRequest, TakeResult


class GatedStore(MemoryBucketStore):
    """Records each batch it receives and holds it until `gate` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.batches: list[list[str]] = []
        self.fail_with: Exception | None = None

    async def take(self, requests: Sequence[TakeRequest]) -> list[TakeResult]:
        self.batches.append([request.key for request in requests])
        await asyncio.sleep(0)  # a round trip always yields, even when the gate is open
        await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        return await super().take(requests)


def req(key: str) -> TakeRequest:
    return TakeRequest(key, capacity=10, window_ms=3_600_000)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_checks_queued_during_a_round_trip_leave_together() -> None:
    inner = GatedStore()
    store = CoalescingBucketStore(inner)
    first = asyncio.create_task(store.take([req("a")]))
    await settle()
    assert inner.batches == [["a"]]  # a lone check leaves at once
    queued = [asyncio.create_task(store.take([req(k)])) for k in "bcd"]
    await settle()
    assert inner.batches == [["a"]]  # waiting for the batch in flight
    inner.gate.set()
    await asyncio.gather(first, *queued)
    assert inner.batches == [["a"], ["b", "c", "d"]]
    assert store.batches_sent == 2


async def test_results_go_back_to_their_own_callers() -> None:
    inner = GatedStore()
    inner.gate.set()
    store = CoalescingBucketStore(inner)
    costs = {"x": 1, "y": 4, "z": 9}
    results = await asyncio.gather(
        *(store.take([TakeRequest(k, 10, 3_600_000, c)]) for k, c in costs.items())
    )
    assert [r[0].remaining for r in results] == [9, 6, 1]


async def test_a_caller_cancelled_before_its_batch_leaves_is_not_charged() -> None:
    inner = GatedStore()
    store = CoalescingBucketStore(inner)
    first = asyncio.create_task(store.take([req("a")]))
    await settle()
    queued = {k: asyncio.create_task(store.take([req("shared")])) for k in "bcde"}
    await settle()
    queued["b"].cancel()
    queued["d"].cancel()
    inner.gate.set()
    await asyncio.gather(first, *queued.values(), return_exceptions=True)
    assert inner.batches == [["a"], ["shared", "shared"]]
    assert (await MemoryBucketStore.take(inner, [req("shared")]))[0].remaining == 7


async def test_max_batch_splits_a_long_queue() -> None:
    inner = GatedStore()
    store = CoalescingBucketStore(inner, max_batch=2)
    first = asyncio.create_task(store.take([req("a")]))
    await settle()
    queued = [asyncio.create_task(store.take([req(k)])) for k in "bcde"]
    await settle()
    inner.gate.set()
    await asyncio.gather(first, *queued)
    assert inner.batches == [["a"], ["b", "c"], ["d", "e"]]


async def test_a_failed_batch_fails_each_of_its_callers_and_the_next_batch_runs() -> None:
    inner = GatedStore()
    inner.fail_with = ConnectionError("redis went away")
    store = CoalescingBucketStore(inner)
    doomed = [asyncio.create_task(store.take([req(k)])) for k in "ab"]
    inner.gate.set()
    outcomes = await asyncio.gather(*doomed, return_exceptions=True)
    assert all(isinstance(o, ConnectionError) for o in outcomes)
    inner.fail_with = None
    assert (await store.take([req("c")]))[0].allowed


async def test_a_hung_batch_times_out_and_does_not_block_the_queue() -> None:
    inner = GatedStore()  # gate never opens for the first batch
    store = CoalescingBucketStore(inner, timeout=0.05)
    hung = asyncio.create_task(store.take([req("a")]))
    await settle()
    behind = asyncio.create_task(store.take([req("b")]))
    with pytest.raises(TimeoutError):
        await hung
    inner.gate.set()  # Redis is back: the queued check goes out in the next batch
    assert (await behind)[0].allowed
    assert inner.batches == [["a"], ["b"]]


async def test_a_multi_request_take_keeps_order() -> None:
    inner = GatedStore()
    inner.gate.set()
    store = CoalescingBucketStore(inner)
    results = await store.take([req("p"), req("p"), req("q")])
    assert [r.remaining for r in results] == [9, 8, 9]


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        CoalescingBucketStore(MemoryBucketStore(), max_batch=0)


async def test_a_cancelled_lone_check_does_not_strand_the_checks_queued_behind_it() -> None:
    inner = GatedStore()
    store = CoalescingBucketStore(inner)
    lone = asyncio.create_task(store.take([req("a")]))
    await settle()
    behind = asyncio.create_task(store.take([req("b")]))
    await settle()
    lone.cancel()
    await settle()
    inner.gate.set()
    assert (await behind)[0].allowed
    assert lone.cancelled()
    assert inner.batches == [["a"], ["b"]]


async def test_deadline_covers_the_batch_in_flight_and_its_own() -> None:
    assert CoalescingBucketStore(MemoryBucketStore(), timeout=0.1).deadline_seconds == 0.2
    assert CoalescingBucketStore(MemoryBucketStore()).deadline_seconds is None


async def test_concurrent_clients_share_batches_instead_of_going_one_by_one() -> None:
    inner = GatedStore()
    inner.gate.set()
    store = CoalescingBucketStore(inner)

    async def client(name: str) -> None:
        for _ in range(5):
            await store.take([req(name)])

    await asyncio.gather(*(client(f"c{i}") for i in range(8)))
    assert sum(len(batch) for batch in inner.batches) == 40
    assert store.batches_sent <= 6  # one batch per round (+ the first, sent alone)


async def test_sequential_checks_go_out_inline_one_at_a_time() -> None:
    inner = GatedStore()
    inner.gate.set()
    store = CoalescingBucketStore(inner)
    for _ in range(3):
        await store.take([req("solo")])
    assert inner.batches == [["solo"]] * 3
    assert store._flusher is None  # no hand-off task was needed
