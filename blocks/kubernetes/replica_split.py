"""How many pods each version gets so that traffic, which follows pod counts, matches a weight.

A pure function used by the replica-ratio router; it lives with the router (not in
`flows.plans`) because `blocks/` must not import `flows/`.
"""

from __future__ import annotations

import math


def replica_split(total: int, weight: int) -> tuple[int, int]:
    """(stable, canary) replica counts that approximate `weight` percent on `total` replicas.

    Used by replica-ratio routers, where traffic follows pod counts. The canary gets
    ceil(total × weight / 100) replicas, but while 0 < weight < 100 both sides keep at least one
    so neither version disappears mid-rollout (as Argo's basic canary does).

    >>> [replica_split(4, w) for w in (0, 5, 10, 50, 100)]
    [(4, 0), (3, 1), (3, 1), (2, 2), (0, 4)]
    >>> replica_split(1, 50)
    (1, 1)
    """
    if total < 1:
        raise ValueError(f"total replicas must be at least 1, got {total}")
    if not 0 <= weight <= 100:
        raise ValueError(f"weight {weight} is outside 0..100")
    if weight == 0:
        return total, 0
    if weight == 100:
        return 0, total
    canary = max(1, math.ceil(total * weight / 100))
    stable = max(1, total - canary)
    return stable, canary
