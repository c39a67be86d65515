"""`InputValidator`: business bounds on request parameters (pages, amounts, dates, sizes).

Each method returns the clean value or raises `InvalidInput(field, reason)`, which an API turns
into a 4xx naming the field. Pagination is the one exception: out-of-range page sizes are
clamped rather than refused, as the seed specified (a client asking for 500 rows gets 100).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from app.validation.errors import InvalidInput

MAX_PAGE_SIZE = 100
MAX_DATE_RANGE = timedelta(days=90)
MAX_JSON_BYTES = 1_048_576


def _as_int(field: str, value: int | str) -> int:
    if isinstance(value, bool):
        raise InvalidInput(field, "must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(field, "must be an integer") from None


class InputValidator:
    """Bounds checks configured once (limits can be tightened per service)."""

    def __init__(
        self,
        *,
        max_page_size: int = MAX_PAGE_SIZE,
        max_date_range: timedelta = MAX_DATE_RANGE,
        max_json_bytes: int = MAX_JSON_BYTES,
    ) -> None:
        self.max_page_size = max_page_size
        self.max_date_range = max_date_range
        self.max_json_bytes = max_json_bytes

    def pagination(self, page: int | str = 1, page_size: int | str = 20) -> tuple[int, int]:
        """(page, page_size) with page >= 1 and page_size clamped to [1, max_page_size]."""
        page_number = max(1, _as_int("page", page))
        size = min(self.max_page_size, max(1, _as_int("page_size", page_size)))
        return page_number, size

    def decimal_in_range(
        self,
        field: str,
        value: Decimal | int | str,
        *,
        minimum: Decimal | int | str | None = None,
        maximum: Decimal | int | str | None = None,
    ) -> Decimal:
        """`value` as a finite Decimal within [minimum, maximum]; floats are refused (inexact)."""
        if isinstance(value, float | bool):
            raise InvalidInput(field, "send decimals as strings, not floating-point numbers")
        try:
            number = Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            raise InvalidInput(field, "not a decimal number") from None
        if not number.is_finite():
            raise InvalidInput(field, "must be a finite number")
        if minimum is not None and number < Decimal(minimum):
            raise InvalidInput(field, f"must be at least {minimum}")
        if maximum is not None and number > Decimal(maximum):
            raise InvalidInput(field, f"must be at most {maximum}")
        return number

    def date_range(self, start: date | str, end: date | str) -> tuple[date, date]:
        """(start, end) with start <= end and at most `max_date_range` between them."""
        first = self._as_date("start", start)
        last = self._as_date("end", end)
        if last < first:
            raise InvalidInput("end", "must not be before start")
        if last - first > self.max_date_range:
            raise InvalidInput("end", f"range longer than {self.max_date_range.days} days")
        return first, last

    def json_size(self, body: bytes | str) -> None:
        """Refuse a JSON document larger than the limit (for bodies already in memory; the
        middleware enforces the same limit while streaming, before anything is buffered)."""
        size = len(body.encode() if isinstance(body, str) else body)
        if size > self.max_json_bytes:
            raise InvalidInput("body", f"{size} bytes is more than {self.max_json_bytes}")

    @staticmethod
    def _as_date(field: str, value: date | str) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            raise InvalidInput(field, "not an ISO date (YYYY-MM-DD)") from None
