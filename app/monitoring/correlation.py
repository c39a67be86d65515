"""Correlation IDs: one id per request, taken from `X-Request-ID` or made, echoed, and logged.

A caller's id is accepted only when it is WELL-FORMED: 1 to 128 characters from
`A-Z a-z 0-9 - _ . :` (covers UUIDs, W3C trace ids, ULIDs, `svc:1234` styles). Anything else
(too long, spaces, control characters, non-ASCII, CR/LF that could split a log line) is replaced
by a fresh id rather than refused: an id is a debugging aid, and a request must not fail over
one. The id lives in a `ContextVar` for the duration of the request, so every log line emitted
while serving it can carry it (see `app.monitoring.logging`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from random import getrandbits
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http_headers import first_header, native

REQUEST_ID_HEADER: Final = "X-Request-ID"
MAX_REQUEST_ID_LENGTH: Final = 128
_HEADER_KEY: Final = REQUEST_ID_HEADER.lower().encode("latin-1")
_KEY_LENGTH: Final = len(_HEADER_KEY)
_HEADER_NAMES: Final = (_HEADER_KEY,)
_WELL_FORMED: Final = re.compile(rb"[A-Za-z0-9._:\-]{1,%d}" % MAX_REQUEST_ID_LENGTH)

request_id_var: ContextVar[str | None] = ContextVar("floodgate_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served in this context, or None outside a request."""
    return request_id_var.get()


def is_well_formed(value: bytes) -> bool:
    return _WELL_FORMED.fullmatch(value) is not None


ID_BATCH_SIZE: Final = 256
_fresh_ids: list[tuple[str, tuple[bytes, bytes]]] = []  # made ahead: (id, its response header)

RequestId = tuple[str, tuple[bytes, bytes]]  # (the id, the response header that carries it)


def new_request_id() -> str:
    """32 hex characters (128 random bits), the shape of a UUID4 without dashes."""
    return fresh_request_id()[0]


def _fresh_request_id() -> RequestId:
    """A new id with its header (the Python twin of the native `fresh_request_id`)."""
    try:
        return _fresh_ids.pop()
    except IndexError:
        return _new_batch()


def _new_batch() -> RequestId:
    """Make `ID_BATCH_SIZE` ids with their headers; return one, keep the rest in `_fresh_ids`.

    `random.getrandbits` rather than `os.urandom`: an id must be unique, not unguessable. One
    draw of 256 x 128 bits, cut into ids with their header bytes, costs a fraction of a draw per
    request; what a request then pays is one `list.pop` (atomic, so threads serving requests
    never share an id). Ids made before a fork are dropped in the child (and `random` is
    reseeded there), so workers never hand out each other's ids."""
    text = getrandbits(128 * ID_BATCH_SIZE).to_bytes(16 * ID_BATCH_SIZE, "big").hex()
    batch = [
        (text[start : start + 32], (_HEADER_KEY, text[start : start + 32].encode("ascii")))
        for start in range(0, len(text), 32)
    ]
    fresh = batch.pop()
    _fresh_ids.extend(batch)
    return fresh


os.register_at_fork(after_in_child=_fresh_ids.clear)


def _request_id_of(scope: Scope) -> RequestId:
    """The id of a request and the response header that carries it: the caller's X-Request-ID
    when well-formed (echoed as it came), else a new id. (The Python twin of the native
    `request_id_of`.)"""
    value = first_header(scope["headers"], _HEADER_NAMES)
    if isinstance(value, bytes) and _WELL_FORMED.fullmatch(value) is not None:
        return value.decode("ascii"), (_HEADER_KEY, value)  # well-formed, so ASCII
    try:  # `_fresh_request_id`, inline: per request
        return _fresh_ids.pop()
    except IndexError:
        return _new_batch()


def _reseed_native() -> None:
    if native is not None:
        native.reseed(os.urandom(32))


# Native when built (app/_native_headers.c: one C call a request instead of a header search,
# a regex and an id cut from a batch, ~5,000 instructions); its generator is seeded here and
# again in every forked worker, so workers never repeat each other's ids.
_reseed_native()
os.register_at_fork(after_in_child=_reseed_native)
fresh_request_id: Callable[[], RequestId] = (
    native.fresh_request_id if native is not None else _fresh_request_id
)
request_id_of: Callable[[Scope], RequestId] = (
    native.request_id_of if native is not None else _request_id_of
)


class CorrelationIdMiddleware:
    """Pure ASGI: sets `request_id_var`, `scope["state"]["request_id"]` and the response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id, header = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_request_id(message.get("headers", ()), header)
            await send(message)

        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


def with_request_id(
    headers: Iterable[tuple[bytes, bytes]],
    header: tuple[bytes, bytes],
    before: list[tuple[bytes, bytes]] | None = None,
) -> list[tuple[bytes, bytes]]:
    """The response headers, then `before` (other layers' headers), then ours; an id the app
    set is dropped (ours wins, never two).

    Copied, not edited in place: the list may belong to a Response object that is sent again."""
    out = list(headers)
    if first_header(out, _HEADER_NAMES) is not None:  # rare: the app set one
        out = [h for h in out if len(h[0]) != _KEY_LENGTH or h[0].lower() != _HEADER_KEY]
    if before:
        out += before
    out.append(header)
    return out
