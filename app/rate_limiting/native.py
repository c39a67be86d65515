"""The optional native per-request path of the in-memory limiter (`_native_bucket.c`).

`setup.py` builds it when a C compiler is present (`pip install -e .` does); without it the
limiter runs the pure-Python path, with the same answers. What the native path does is narrow on
purpose: admit a request that has tokens and return its X-RateLimit-* headers, sharing the Python
store's dict and `Bucket` objects. Everything else (refusals, burst grants, odd keys, failures)
stays in Python, which remains the reference the native code is tested against.

Set FLOODGATE_NATIVE=0 to run without it (to compare, or to rule it out when debugging).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from types import ModuleType
from typing import Any

_module: ModuleType | None
try:
    _module = importlib.import_module("app.rate_limiting._native_bucket")
except ImportError:  # not built (no compiler at install time): the Python path only
    _module = None

AdmitNow: Any = getattr(_module, "AdmitNow", None)
Bucket: Any = getattr(_module, "Bucket", None)

Headers = list[tuple[bytes, bytes]]
Admit = Callable[[str], Headers | None]


def native_enabled() -> bool:
    """Built, and not switched off with FLOODGATE_NATIVE=0."""
    return AdmitNow is not None and os.environ.get("FLOODGATE_NATIVE", "1") != "0"
