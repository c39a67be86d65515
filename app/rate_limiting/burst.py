"""Burst allowances: extra tokens granted to one client for a while, expiring by themselves.

For a known spike (a customer's batch import, a load test) an operator grants N extra requests
that live T seconds. They sit next to the client's bucket (Redis key with a TTL, or an in-memory
entry with an expiry) and are spent only once the regular bucket is empty, inside the same atomic
step as the bucket check — so the grant is exact under concurrency too. A second grant adds
tokens and extends the expiry to the later of the two.

Admin operations are not guarded by fail-open: if the backend is down the caller gets
`BackendUnavailableError` and knows the grant did not happen.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from app.rate_limiting.failure import BackendUnavailableError, FailurePolicy, classify
from app.rate_limiting.protocol import BucketStore

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BurstGrant:
    """The extra tokens a client holds now and the seconds until they lapse."""

    client: str
    tokens: int
    expires_in_seconds: float


class BurstAllowance:
    """Grant, read and revoke burst tokens on the same store the limiter uses."""

    def __init__(
        self,
        store: BucketStore,
        *,
        max_tokens: int = 1_000_000,
        max_ttl_seconds: float = 7 * 24 * 3600,
        failure: FailurePolicy | None = None,
    ) -> None:
        self.store = store
        self.max_tokens = max_tokens
        self.max_ttl_seconds = max_ttl_seconds
        self.failure = failure or FailurePolicy()

    async def grant(self, client: str, tokens: int, ttl_seconds: float) -> BurstGrant:
        """Give `client` (a key from `ClientIdentity`) `tokens` extra requests for `ttl_seconds`."""
        if not client:
            raise ValueError("client must not be empty")
        if not 1 <= tokens <= self.max_tokens:
            raise ValueError(f"tokens must be in 1..{self.max_tokens}, got {tokens}")
        if not 0 < ttl_seconds <= self.max_ttl_seconds:
            raise ValueError(
                f"ttl_seconds must be in (0, {self.max_ttl_seconds}], got {ttl_seconds}"
            )
        ttl_ms = max(1, math.ceil(ttl_seconds * 1000))
        extra = await self._guard(self.store.grant_extra(client, tokens, ttl_ms))
        return BurstGrant(client, extra.tokens, extra.ttl_ms / 1000.0)

    async def remaining(self, client: str) -> BurstGrant:
        """The burst tokens `client` still holds (0 after expiry or when all are spent)."""
        extra = await self._guard(self.store.extra(client))
        return BurstGrant(client, extra.tokens, extra.ttl_ms / 1000.0)

    async def revoke(self, client: str) -> None:
        await self._guard(self.store.revoke_extra(client))

    async def _guard(self, operation: Awaitable[T]) -> T:
        try:
            async with self.failure.timeout():
                return await operation
        except Exception as error:
            if isinstance(error, BackendUnavailableError):
                raise
            raise BackendUnavailableError(classify(error), str(error) or repr(error)) from error
