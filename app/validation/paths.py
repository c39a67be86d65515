"""Which requests a path rule covers: a path and everything below it, never a sibling.

`"/rollouts"` covers `/rollouts` and `/rollouts/web/promote` but not `/rollouts-admin`; a rule
ending in `/` (`"/webhooks/"`) covers whatever lies below it. A plain `startswith` would let
`/rolloutsX` ride on `/rollouts`, which matters for a rule that relaxes screening.
"""

from __future__ import annotations

from collections.abc import Iterable


def path_rules(prefixes: Iterable[str]) -> tuple[str, ...]:
    """Validated rules: each must start with `/` (a typo must not silently match nothing)."""
    rules = tuple(prefixes)
    for rule in rules:
        if not rule.startswith("/"):
            raise ValueError(f"path rule {rule!r} must start with '/'")
    return rules


def is_covered(path: str, rules: tuple[str, ...]) -> bool:
    """True when `path` is one of `rules` or lies below one of them."""
    for rule in rules:
        if path.startswith(rule) and (
            len(path) == len(rule) or rule.endswith("/") or path[len(rule)] == "/"
        ):
            return True
    return False
