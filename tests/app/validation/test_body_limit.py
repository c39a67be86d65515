"""Body reading with a limit, Content-Length parsing and replay."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from app.validation.body_limit import (
    BodyTooLarge,
    ClientDisconnected,
    MalformedContentLength,
    declared_length,
    read_body,
    replaying,
)

Message = dict[str, Any]


def _receiver(messages: list[Message]) -> tuple[Callable[[], Awaitable[Message]], list[int]]:
    """A server-side `receive` over fixed messages, recording how many were pulled."""
    pulled = [0]

    async def receive() -> Message:
        pulled[0] += 1
        return messages[pulled[0] - 1]

    return receive, pulled


def _chunks(*parts: bytes) -> list[Message]:
    return [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], None),
        ([(b"content-length", b"0")], 0),
        ([(b"Content-Length", b" 42 ")], 42),
        ([(b"content-length", b"7"), (b"content-length", b"7")], 7),
    ],
)
def test_declared_length(headers: list[tuple[bytes, bytes]], expected: int | None) -> None:
    assert declared_length(headers) == expected


@pytest.mark.parametrize(
    "values", [[b"-1"], [b"+5"], [b"1e3"], [b""], [b"5", b"6"], [b"9" * 25], [b"\xff"]]
)
def test_malformed_content_length(values: list[bytes]) -> None:
    with pytest.raises(MalformedContentLength):
        declared_length([(b"content-length", v) for v in values])


async def test_read_body_joins_chunks() -> None:
    receive, _ = _receiver(_chunks(b"ab", b"", b"cd"))
    assert await read_body(receive, limit=4) == b"abcd"


async def test_read_body_stops_at_the_first_chunk_past_the_limit() -> None:
    receive, pulled = _receiver(_chunks(b"aaaa", b"bbbb", b"cccc", b"dddd"))
    with pytest.raises(BodyTooLarge):
        await read_body(receive, limit=5)
    assert pulled[0] == 2  # the third and fourth chunks were never asked for


async def test_read_body_reports_a_disconnect() -> None:
    receive, _ = _receiver([*_chunks(b"a", b"b")[:1], {"type": "http.disconnect"}])
    with pytest.raises(ClientDisconnected):
        await read_body(receive, limit=10)


async def test_replay_gives_the_body_once_then_defers_to_the_server() -> None:
    receive, _ = _receiver([{"type": "http.disconnect"}])
    replay = replaying(b"payload", receive)
    assert await replay() == {"type": "http.request", "body": b"payload", "more_body": False}
    assert await replay() == {"type": "http.disconnect"}
