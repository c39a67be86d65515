"""Drive an ASGI app with a hand-made scope: any header bytes, any client address."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ASGIResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    messages: list[dict[str, Any]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None


def http_scope(
    path: str = "/",
    *,
    headers: Sequence[tuple[bytes, bytes]] = (),
    client: tuple[str, int] | None = ("203.0.113.7", 50000),
    method: str = "GET",
) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": list(headers), "client": client,
        "server": ("127.0.0.1", 8000),
    }


async def call_asgi(app: Any, scope: dict[str, Any]) -> ASGIResponse:
    """Run one HTTP request through `app`; collects what it sends."""
    messages: list[dict[str, Any]] = []
    sent_request = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(dict(message))

    await app(scope, receive, send)
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return ASGIResponse(start["status"], list(start.get("headers", [])), body, messages)
