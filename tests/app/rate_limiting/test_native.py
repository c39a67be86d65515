"""The native admit path (`_native_bucket.c`, `native.py`) against the Python path it shortcuts.

Every test runs one limiter through `admit_now` (native) and a twin on its own store through
`check_now` + `rate_limit_headers` (Python), on scripted clocks, and compares the headers, the
refusals and the stored buckets. CI builds the extension (`pip install -e .` compiles it), so
`test_the_native_path_is_built` fails rather than letting the suite silently test Python twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from app.rate_limiting import memory, native
from app.rate_limiting.limiter import TokenBucketRateLimiter
from app.rate_limiting.memory import MemoryBucketStore
from app.rate_limiting.metrics import PrometheusObserver
from app.rate_limiting.middleware import rate_limit_headers
from app.rate_limiting.throttling import DynamicThrottling

Headers = list[tuple[bytes, bytes]]


@dataclass
class Clock:
    now: float = 1_700_000_000.0
    calls: int = 0

    def __call__(self) -> float:
        self.calls += 1
        return self.now


@dataclass
class ScriptedLoad:
    value: float = 0.0

    def load(self) -> float:
        return self.value


@dataclass
class Twins:
    """A native-admitting limiter and a Python-only one, each on its own store and clock."""

    clock: Clock = field(default_factory=Clock)
    twin_clock: Clock = field(default_factory=Clock)
    native: TokenBucketRateLimiter | None = None
    python: TokenBucketRateLimiter | None = None

    def advance(self, seconds: float) -> None:
        self.clock.now += seconds
        self.twin_clock.now += seconds


def twins(limit: int, window_seconds: float, **kwargs: object) -> Twins:
    pair = Twins()
    pair.native = TokenBucketRateLimiter(MemoryBucketStore(pair.clock), limit=limit,
                                         window_seconds=window_seconds, **kwargs)  # type: ignore[arg-type]
    pair.python = TokenBucketRateLimiter(MemoryBucketStore(pair.twin_clock), limit=limit,
                                         window_seconds=window_seconds, **kwargs)  # type: ignore[arg-type]
    return pair


def through_native(limiter: TokenBucketRateLimiter, key: str) -> tuple[bool, Headers]:
    """What RuntimeMiddleware does: the native path, else the Python decision."""
    assert limiter.admit_now is not None
    headers = limiter.admit_now(key)
    if headers is not None:
        return True, headers
    decision = limiter.check_now(key)
    return decision.allowed, rate_limit_headers(decision)


def through_python(limiter: TokenBucketRateLimiter, key: str) -> tuple[bool, Headers]:
    decision = limiter.check_now(key)
    return decision.allowed, rate_limit_headers(decision)


def buckets(limiter: TokenBucketRateLimiter) -> dict[str, tuple[float, float, float]]:
    table = limiter.store._buckets  # type: ignore[attr-defined]
    return {key: (b.tokens, b.at_ms, b.expires_ms) for key, b in table.items()}


def test_the_native_path_is_built() -> None:
    assert native.AdmitNow is not None, "app/rate_limiting/_native_bucket.c was not compiled"
    assert native.native_enabled()
    assert memory._Bucket is native.Bucket


def test_an_admitted_request_gets_the_python_headers_and_state() -> None:
    pair = twins(limit=5, window_seconds=10)
    assert pair.native is not None
    assert pair.python is not None
    for _ in range(5):
        assert through_native(pair.native, "ip:1") == through_python(pair.python, "ip:1")
        assert buckets(pair.native) == buckets(pair.python)


def test_a_request_without_tokens_is_left_to_python_and_nothing_changes() -> None:
    pair = twins(limit=2, window_seconds=10)
    assert pair.native is not None
    assert pair.native.admit_now is not None
    assert pair.native.admit_now("ip:1") is not None
    assert pair.native.admit_now("ip:1") is not None
    before = buckets(pair.native)
    assert pair.native.admit_now("ip:1") is None
    assert buckets(pair.native) == before
    refused = pair.native.check_now("ip:1")
    assert not refused.allowed
    assert refused.retry_after == 5.0


@pytest.mark.parametrize("key", ["", "k" * 257, b"ip:1", 42])
def test_odd_keys_are_left_to_python(key: object) -> None:
    limiter = TokenBucketRateLimiter(MemoryBucketStore(Clock()), limit=3, window_seconds=1)
    assert limiter.admit_now is not None
    assert limiter.admit_now(key) is None  # type: ignore[arg-type]
    assert buckets(limiter) == {}


async def test_burst_grants_send_every_check_to_python_which_spends_them() -> None:
    clock = Clock()
    store = MemoryBucketStore(clock)
    limiter = TokenBucketRateLimiter(store, limit=1, window_seconds=60)
    assert limiter.admit_now is not None
    await store.grant_extra("ip:1", tokens=2, ttl_ms=60_000)
    assert limiter.admit_now("ip:1") is None
    assert [limiter.check_now("ip:1").allowed for _ in range(4)] == [True, True, True, False]
    clock.now += 61  # the grant lapsed: the native path serves again
    assert limiter.check_now("ip:other").allowed  # a take prunes the lapsed grant
    assert limiter.admit_now("ip:1") is not None


def test_allowed_decisions_are_counted_like_the_python_path() -> None:
    native_registry, python_registry = CollectorRegistry(), CollectorRegistry()
    pair = Twins()
    pair.native = TokenBucketRateLimiter(MemoryBucketStore(pair.clock), limit=3,
                                         observer=PrometheusObserver(native_registry))
    pair.python = TokenBucketRateLimiter(MemoryBucketStore(pair.twin_clock), limit=3,
                                         observer=PrometheusObserver(python_registry))
    for _ in range(5):
        through_native(pair.native, "ip:1")
        through_python(pair.python, "ip:1")
    for outcome, expected in (("allowed", 3), ("refused", 2)):
        labels = {"outcome": outcome}
        name = "floodgate_rate_limit_checks_total"
        assert native_registry.get_sample_value(name, labels) == expected
        assert python_registry.get_sample_value(name, labels) == expected


def test_another_observer_keeps_the_python_path() -> None:
    class Recording:
        def __init__(self) -> None:
            self.outcomes: list[str] = []

        def decision(self, outcome: str) -> None:
            self.outcomes.append(outcome)

        def backend_error(self, backend: str, kind: str) -> None: ...
        def throttle_factor(self, factor: float) -> None: ...
        def quota(self, feature: str, outcome: str) -> None: ...

    limiter = TokenBucketRateLimiter(MemoryBucketStore(Clock()), observer=Recording())
    assert limiter.admit_now is None


def test_without_the_extension_the_store_offers_no_native_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLOODGATE_NATIVE", "0")
    limiter = TokenBucketRateLimiter(MemoryBucketStore(Clock()), limit=3)
    assert limiter.admit_now is None
    assert limiter.check_now("ip:1").allowed


def test_throttling_is_asked_again_only_when_its_next_sample_is_due() -> None:
    load, throttle_clock = ScriptedLoad(), Clock(now=100.0)
    throttling = DynamicThrottling(load, interval_seconds=1.0, clock=throttle_clock)
    limiter = TokenBucketRateLimiter(MemoryBucketStore(Clock()), limit=100, window_seconds=60,
                                     throttling=throttling)
    assert limiter.admit_now is not None
    first = limiter.admit_now("ip:1")
    assert first is not None
    assert first[0] == (b"x-ratelimit-limit", b"100")
    load.value = 5.0  # overloaded, but the factor is only re-sampled once a second
    throttle_clock.now += 0.5
    second = limiter.admit_now("ip:1")
    assert second is not None
    assert second[0] == (b"x-ratelimit-limit", b"100")
    throttle_clock.now += 0.5
    third = limiter.admit_now("ip:1")
    assert third is not None
    assert third[0] == (b"x-ratelimit-limit", b"50")
    assert limiter.current_limit() == 50


def test_a_failing_clock_raises_and_changes_nothing() -> None:
    def broken() -> float:
        raise OSError("clock gone")

    limiter = TokenBucketRateLimiter(MemoryBucketStore(broken), limit=3)
    assert limiter.admit_now is not None
    with pytest.raises(OSError, match="clock gone"):
        limiter.admit_now("ip:1")
    assert buckets(limiter) == {}


def test_expired_buckets_are_pruned_from_the_front() -> None:
    clock = Clock()
    limiter = TokenBucketRateLimiter(MemoryBucketStore(clock), limit=10, window_seconds=10)
    assert limiter.admit_now is not None
    for key in ("ip:1", "ip:2", "ip:3"):
        limiter.admit_now(key)
    clock.now += 0.5
    limiter.admit_now("ip:4")
    clock.now += 0.6  # a token refills in 1 s: the first three are full again, ip:4 is not
    limiter.admit_now("ip:5")
    assert list(buckets(limiter)) == ["ip:4", "ip:5"]


def test_the_bucket_type_is_usable_from_python() -> None:
    assert native.Bucket is not None
    bucket = native.Bucket(1.5, 2.0, expires_ms=3.0)
    bucket.tokens -= 1
    assert (bucket.tokens, bucket.at_ms, bucket.expires_ms) == (0.5, 2.0, 3.0)
    assert repr(bucket) == "Bucket(tokens=0.5, at_ms=2, expires_ms=3)"
    with pytest.raises(TypeError):
        native.Bucket("many", 2.0, 3.0)


steps = st.lists(
    st.tuples(
        st.sampled_from(["ip:1", "ip:2", "key:abc"]),
        st.one_of(st.just(0.0), st.floats(0.0, 3.0),
                  st.integers(0, 2500).map(lambda ms: ms / 1000)),
        st.floats(0.0, 2.0),  # load: above 0.8 throttles
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(limit=st.integers(1, 12), window=st.sampled_from([0.5, 1.0, 7.0, 60.0]), script=steps)
def test_native_and_python_paths_agree_on_any_script(
    limit: int, window: float, script: list[tuple[str, float, float]]
) -> None:
    native_load, python_load = ScriptedLoad(), ScriptedLoad()
    native_throttle_clock, python_throttle_clock = Clock(now=0.0), Clock(now=0.0)
    pair = Twins()
    pair.native = TokenBucketRateLimiter(
        MemoryBucketStore(pair.clock), limit=limit, window_seconds=window,
        throttling=DynamicThrottling(native_load, interval_seconds=0.5,
                                     clock=native_throttle_clock),
    )
    pair.python = TokenBucketRateLimiter(
        MemoryBucketStore(pair.twin_clock), limit=limit, window_seconds=window,
        throttling=DynamicThrottling(python_load, interval_seconds=0.5,
                                     clock=python_throttle_clock),
    )
    for key, advance, load in script:
        pair.advance(advance)
        native_throttle_clock.now += advance
        python_throttle_clock.now += advance
        native_load.value = python_load.value = load
        assert through_native(pair.native, key) == through_python(pair.python, key)
        assert buckets(pair.native) == buckets(pair.python)


def test_reset_header_is_the_second_the_bucket_is_full_again() -> None:
    clock = Clock(now=1_700_000_000.25)
    limiter = TokenBucketRateLimiter(MemoryBucketStore(clock), limit=4, window_seconds=2)
    assert limiter.admit_now is not None
    headers = dict(limiter.admit_now("ip:1") or [])
    full_at_ms = math.floor(clock.now * 1000) + 500  # one token refills in 500 ms
    assert headers[b"x-ratelimit-reset"] == b"%d" % math.ceil(full_at_ms / 1000)
    assert headers[b"x-ratelimit-remaining"] == b"3"
