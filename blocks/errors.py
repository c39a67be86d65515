"""Errors raised by targets and metric sources (the outside-world side of Floodgate)."""

from __future__ import annotations


class TargetError(Exception):
    """The platform refused or failed an operation; the message says which and why."""


class ConfigurationError(TargetError, ValueError):
    """A block or target is configured wrongly (unknown router, missing binary, ...)."""


class UnknownApp(TargetError, LookupError):
    """The target has no app of that name; the message lists the ones it has."""


class AppLocked(TargetError):
    """Another process is driving a rollout of this app right now."""


class InvalidSnapshot(TargetError):
    """A snapshot is missing, expired, for another app, or fails its integrity check."""
