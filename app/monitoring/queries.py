"""Sorting failed database queries into a few categories an operator can act on.

The categories follow the DB-API 2 (PEP 249) exception hierarchy by class NAME, so any driver
(psycopg, asyncpg, sqlite3, SQLAlchemy's wrappers, ...) is categorised without importing it:
a timeout wants a bigger pool or a faster query, a connection error wants the database checked,
an integrity error is a data bug, a syntax error is a code bug.
"""

from __future__ import annotations

from app.monitoring.names import QUERY_ERROR_CATEGORIES

# Class-name fragments, checked along the MRO, first match wins (order matters: a
# `QueryCanceledError` from a statement timeout is an OperationalError too).
_NAME_FRAGMENTS: tuple[tuple[str, str], ...] = (
    ("Timeout", "timeout"),
    ("Canceled", "timeout"),
    ("Cancelled", "timeout"),
    ("Integrity", "integrity"),
    ("UniqueViolation", "integrity"),
    ("ForeignKeyViolation", "integrity"),
    ("Programming", "syntax"),
    ("Syntax", "syntax"),
    ("UndefinedTable", "syntax"),
    ("DataError", "data"),
    ("Connection", "connection"),
    ("Interface", "connection"),
    ("Operational", "connection"),
)


def categorize_query_error(error: BaseException) -> str:
    """Return one of `QUERY_ERROR_CATEGORIES` for an exception raised by a query."""
    if isinstance(error, TimeoutError):  # asyncio.TimeoutError is TimeoutError since 3.11
        return "timeout"
    if isinstance(error, ConnectionError):
        return "connection"
    if "syntax error" in str(error).lower():  # sqlite3 raises OperationalError for these
        return "syntax"
    for cls in type(error).__mro__:
        for fragment, category in _NAME_FRAGMENTS:
            if fragment in cls.__name__:
                return category
    return "other"


assert {category for _, category in _NAME_FRAGMENTS} <= set(QUERY_ERROR_CATEGORIES)
