"""Query errors sorted into categories, checked against a real DB-API driver (sqlite3)."""

from __future__ import annotations

import sqlite3

import pytest

from app.monitoring.names import QUERY_ERROR_CATEGORIES
from app.monitoring.queries import categorize_query_error


def sqlite_error(statements: list[str]) -> Exception:
    db = sqlite3.connect(":memory:")
    try:
        for statement in statements:
            db.execute(statement)
    except sqlite3.Error as error:
        return error
    finally:
        db.close()
    raise AssertionError("the statements did not fail")


def test_real_sqlite_errors_are_categorised():
    integrity = sqlite_error(["CREATE TABLE t (id INTEGER PRIMARY KEY)",
                              "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (1)"])
    syntax = sqlite_error(["SELEC 1"])
    missing_table = sqlite_error(["SELECT * FROM nowhere"])

    assert categorize_query_error(integrity) == "integrity"
    assert categorize_query_error(syntax) == "syntax"
    assert categorize_query_error(missing_table) == "connection"  # sqlite: OperationalError


class StatementTimeoutError(Exception):
    pass


class UniqueViolation(Exception):
    pass


class ProgrammingError(Exception):
    pass


class InterfaceError(Exception):
    pass


class DataError(Exception):
    pass


@pytest.mark.parametrize(
    ("error", "category"),
    [
        (TimeoutError(), "timeout"),
        (StatementTimeoutError(), "timeout"),
        (ConnectionRefusedError(), "connection"),
        (InterfaceError(), "connection"),
        (UniqueViolation(), "integrity"),
        (ProgrammingError(), "syntax"),
        (DataError(), "data"),
        (KeyError("x"), "other"),
    ],
)
def test_categories_follow_dbapi_names(error, category):
    assert categorize_query_error(error) == category
    assert category in QUERY_ERROR_CATEGORIES
