"""Point the CLI's flow runs at a Prefect server before Prefect is imported.

Order: `PREFECT_API_URL` if set; else the Prefect server the local stack started (recorded in
`$FLOODGATE_HOME/prefect.json` by `floodgate local up`); else Prefect's ephemeral mode, which
takes ~30 s to start and has no UI, so the CLI says so.
"""

from __future__ import annotations

import json
import os

import httpx

from flows.targets import local_home


def stack_prefect_url() -> str | None:
    path = local_home() / "prefect.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    url = data.get("api_url")
    return url if isinstance(url, str) else None


def reachable(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def configure() -> str | None:
    """Set PREFECT_API_URL for this process; return the URL, or None for ephemeral mode."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "floodgate")
    # INFO still reaches the Prefect UI; the terminal shows our own progress instead.
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    explicit = os.environ.get("PREFECT_API_URL")
    if explicit:
        return explicit
    url = stack_prefect_url()
    if url and reachable(url):
        os.environ["PREFECT_API_URL"] = url
        return url
    return None
