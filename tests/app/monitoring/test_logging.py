"""configure_logging(): one handler however often it is called, lines carry the request id."""

from __future__ import annotations

import io
import logging

import pytest

from app.monitoring.correlation import request_id_var
from app.monitoring.logging import RequestIdFilter, configure_logging


@pytest.fixture
def clean_root():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def test_lines_carry_the_request_id(clean_root):
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    log = logging.getLogger("tests.logging")

    token = request_id_var.set("req-7")
    try:
        log.info("inside")
    finally:
        request_id_var.reset(token)
    log.info("outside")

    inside, outside = stream.getvalue().splitlines()
    assert "[request_id=req-7] inside" in inside
    assert "[request_id=-] outside" in outside


def test_configuring_twice_does_not_double_lines(clean_root):
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    configure_logging("INFO", stream=stream)
    logging.getLogger("tests.logging").info("once")
    assert stream.getvalue().count("once") == 1


def test_filter_keeps_an_explicit_request_id():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    record.request_id = "given"
    assert RequestIdFilter().filter(record)
    assert record.request_id == "given"
