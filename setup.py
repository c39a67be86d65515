"""Builds the optional native hot paths: the in-memory limiter's admit
(app/rate_limiting/_native_bucket.c) and the request-header search (app/_native_headers.c).

Everything else is declared in pyproject.toml. The extension is `optional`: without a C compiler
the install still succeeds and the pure-Python twins run (same answers, slower; see
app/rate_limiting/native.py and app/http_headers.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "app.rate_limiting._native_bucket",
            sources=["app/rate_limiting/_native_bucket.c"],
            # No fused multiply-add: the native arithmetic must round exactly as Python's does.
            extra_compile_args=["-ffp-contract=off"],
            optional=True,
        ),
        # The request-header search every request runs three times (see app/http_headers.py).
        Extension("app._native_headers", sources=["app/_native_headers.c"], optional=True),
    ]
)
