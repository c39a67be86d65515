"""Logging that stamps every record with the current request's correlation id.

`RequestIdFilter` copies `current_request_id()` onto each record as `record.request_id` ("-"
outside a request). It must sit on HANDLERS (a filter on a logger does not see records
propagated from child loggers). `configure_logging()` installs one stream handler on the root
logger with a format that prints the id; it is idempotent, so calling it from every
`create_app()` never doubles log lines.
"""

from __future__ import annotations

import logging
import sys
from typing import Final, TextIO

from app.monitoring.correlation import current_request_id

LOG_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s [request_id=%(request_id)s] %(message)s"
NO_REQUEST_ID: Final = "-"


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or NO_REQUEST_ID
        return True


class _FloodgateHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installed, so a second call can find and keep it."""


def configure_logging(level: int | str = logging.INFO, stream: TextIO | None = None) -> None:
    """Install (once) a root handler whose lines carry the request id; also stamp the other
    root and uvicorn handlers so their lines have `record.request_id` too."""
    root = logging.getLogger()
    ours = next((h for h in root.handlers if isinstance(h, _FloodgateHandler)), None)
    if ours is None:
        ours = _FloodgateHandler(stream or sys.stderr)
        ours.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(ours)
    elif stream is not None:
        ours.setStream(stream)
    root.setLevel(level)
    for logger in (root, logging.getLogger("uvicorn"), logging.getLogger("uvicorn.access")):
        for handler in logger.handlers:
            install_request_id_filter(handler)


def install_request_id_filter(handler: logging.Handler) -> None:
    """Add a `RequestIdFilter` to `handler` unless it already has one."""
    if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
        handler.addFilter(RequestIdFilter())
