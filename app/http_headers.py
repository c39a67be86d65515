"""`first_header`: the value of a request header, looked up the way every step of the runtime needs.

The runtime searches each request's headers three times (the X-Request-ID, the API key, whether
a body is announced). ASGI servers should lowercase header names but need not, so each search
compares names ignoring ASCII case. Written in Python, a search costs ~15 bytecodes per header;
`_native_headers.c` does the same walk in C when it was built (`pip install -e .` builds it;
FLOODGATE_NATIVE=0 switches it off), and `_first_header` below is its reference twin. The same
module makes request ids (see app/monitoring/correlation.py); `native` is it, or None.
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


def _load_native() -> ModuleType | None:
    """`_native_headers` when built and not switched off with FLOODGATE_NATIVE=0."""
    if os.environ.get("FLOODGATE_NATIVE", "1") == "0":
        return None
    try:
        return importlib.import_module("app._native_headers")
    except ImportError:  # not built (no compiler at install time): the Python twins
        return None


native: ModuleType | None = _load_native()
first_header: Callable[[Iterable[tuple[bytes, bytes]], tuple[bytes, ...]], bytes | None] = (
    native.first_header if native is not None else _first_header
)
