"""Builds the optional native rate-limit path (app/rate_limiting/_native_bucket.c).

Everything else is declared in pyproject.toml. The extension is `optional`: without a C compiler
the install still succeeds and the in-memory limiter runs its pure-Python path (same answers,
slower; see app/rate_limiting/native.py).
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
        )
    ]
)
