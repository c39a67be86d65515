"""Read an ASGI request body up to a limit, stopping the moment the limit is passed.

The limit is enforced twice: against `Content-Length` before a single byte is read (an honest
client gets its 413 before uploading, and `Expect: 100-continue` is never answered), and by
counting the bytes of `http.request` messages as they arrive (chunked bodies, or a client that
lies about its length). At most `limit` bytes, plus the one message that crossed the line,
are ever held in memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]


class BodyTooLarge(Exception):
    """The body is, or claims to be, larger than the limit (answer 413)."""


class MalformedContentLength(Exception):
    """Content-Length is not a single non-negative integer (answer 400)."""


class ClientDisconnected(Exception):
    """The client went away before the body was complete (answer nothing)."""


_CONTENT_LENGTH = b"content-length"


def declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The Content-Length header as an int, None if absent; several must all agree."""
    values: set[bytes] = set()
    for name, value in headers:  # lengths first: most headers are not this one
        if len(name) == len(_CONTENT_LENGTH) and name.lower() == _CONTENT_LENGTH:
            values.add(value.strip())
    if not values:
        return None
    if len(values) > 1:
        raise MalformedContentLength("conflicting Content-Length headers")
    (value,) = values
    if not value.isdigit() or len(value) > 19:
        raise MalformedContentLength("Content-Length is not a non-negative integer")
    return int(value)


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, or BodyTooLarge as soon as more than `limit` bytes have arrived."""
    first = await receive()
    if first["type"] == "http.request" and not first.get("more_body", False):
        body: bytes = first.get("body", b"")  # the usual case: the whole body in one message
        if len(body) > limit:
            raise BodyTooLarge
        return body
    chunks: list[bytes] = []
    size = 0
    message = first
    while True:
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
        message = await receive()


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the already-read body, then defers to the server's."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
