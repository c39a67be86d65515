"""`first_header`: the value of a request header, looked up the way every step of the runtime needs.

The runtime searches each request's headers three times (the X-Request-ID, the API key, whether
a body is announced). ASGI servers should lowercase header names but need not, so each search
compares names ignoring ASCII case. Written in Python, a search costs ~15 bytecodes per header;
`_native_headers.c` does the same walk in C when it was built (`pip install -e .` builds it;
FLOODGATE_NATIVE=0 switches it off), and `_first_header` below is its reference twin.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable
from types import ModuleType


def _first_header(headers: Iterable[tuple[bytes, bytes]], names: tuple[bytes, ...]) -> bytes | None:
    """The value of the first header named one of `names` (lowercase), ignoring case; or None."""
    for name, value in headers:
        if isinstance(name, bytes) and name.lower() in names:
            return value
    return None


def _native() -> Callable[[Iterable[tuple[bytes, bytes]], tuple[bytes, ...]], bytes | None] | None:
    if os.environ.get("FLOODGATE_NATIVE", "1") == "0":
        return None
    module: ModuleType
    try:
        module = importlib.import_module("app._native_headers")
    except ImportError:  # not built (no compiler at install time): the Python twin
        return None
    found: Callable[[Iterable[tuple[bytes, bytes]], tuple[bytes, ...]], bytes | None]
    found = module.first_header
    return found


first_header = _native() or _first_header
