"""The one exception of the validation package: which field is wrong, and why."""

from __future__ import annotations


class InvalidInput(ValueError):
    """Bad input, named by field, so an API can answer 4xx with a reason a person can act on."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
