"""Read an ASGI request body up to a limit, stopping the moment the limit is passed.

The limit is enforced twice: against `Content-Length` before a single byte is read (an honest
client gets its 413 before uploading, and `Expect: 100-continue` is never answered), and by
counting the bytes of `http.request` messages as they arrive (chunked bodies, or a client that
lies about its length). At most `limit` bytes, plus the one message that crossed the line,
are ever held in memory. An HTTP/1.x GET or HEAD that announces no body is not read at all
(`is_bodyless`): most requests are those, and reading nothing is the cheapest read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
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
_TRANSFER_ENCODING = b"transfer-encoding"
BODYLESS_METHODS = frozenset({"GET", "HEAD"})
FRAMED_VERSIONS = frozenset({"1.0", "1.1"})  # HTTP versions where no framing header = no body


Framing = tuple[int | None, bool]
"""(Content-Length or None, whether a Transfer-Encoding header is present)."""


def body_framing(headers: Iterable[tuple[bytes, bytes]]) -> Framing:
    """Content-Length (several must all agree) and whether Transfer-Encoding is present.

    (A plain tuple: this runs for every request, and a NamedTuple costs a Python call more.)"""
    values: set[bytes] | None = None
    transfer_encoded = False
    for name, value in headers:
        size = len(name)  # lengths first: most headers are neither
        if size == len(_CONTENT_LENGTH) and name.lower() == _CONTENT_LENGTH:
            if values is None:
                values = set()
            values.add(value.strip())
        elif size == len(_TRANSFER_ENCODING) and name.lower() == _TRANSFER_ENCODING:
            transfer_encoded = True
    return (None if values is None else _parse_length(values)), transfer_encoded


def declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The Content-Length header as an int, None if absent; several must all agree."""
    return body_framing(headers)[0]


def is_bodyless(scope: Mapping[str, Any], length: int | None, transfer_encoded: bool) -> bool:
    """True for an HTTP/1.x GET or HEAD whose headers announce no body.

    Such a request has no body (RFC 9112 section 6.3: without Content-Length or
    Transfer-Encoding a request body has length zero), so there is nothing to read, count or
    replay, and the app gets the server's own `receive`. GET and HEAD only: their handlers do not
    read bodies, so how a client that hung up is seen stays as it was for everything else (the
    middleware reads the body first and answers nothing). Never for HTTP/2, where a body needs
    neither header.
    """
    return (
        not transfer_encoded
        and not length
        and scope.get("method") in BODYLESS_METHODS
        and scope.get("http_version") in FRAMED_VERSIONS
    )


def _parse_length(values: set[bytes]) -> int:
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
