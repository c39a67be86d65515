"""RESP2, the Redis wire format: encode commands, decode replies incrementally.

Why our own: the limiter's connection (`redis_connection.py`) reads replies straight from
`data_received`, so it needs a decoder that takes whatever bytes arrived and hands back every
complete reply, keeping the rest for later. Replies are few and small (one bulk string per batch
of checks), so plain Python slicing is fast enough; the fast path is one bulk string.

Only RESP2 is spoken (the connection never sends ``HELLO 3``): simple strings, errors, integers,
bulk strings and arrays. An error reply is returned as a `ReplyError` value, not raised, so the
connection can hand it to the one command it belongs to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.exceptions import ResponseError

Arg = str | bytes | int | float


class ReplyError(ResponseError):
    """An error reply from Redis (``-ERR ...``, ``-NOSCRIPT ...``); it belongs to one command."""

    @property
    def code(self) -> str:
        """The error's first word: ``ERR``, ``NOSCRIPT``, ``WRONGPASS`` ..."""
        return str(self).split(" ", 1)[0]


class ProtocolError(ValueError):
    """Bytes that are not RESP2: the stream cannot be trusted any more."""


class _Incomplete(Exception):
    """The buffer ends inside a reply; wait for more bytes."""


def _to_bytes(value: Arg) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return repr(value).encode() if isinstance(value, float) else str(value).encode()


def encode_command(parts: Sequence[Arg]) -> bytes:
    """RESP-encode one command (an array of bulk strings)."""
    chunks = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = _to_bytes(part)
        chunks.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(chunks)


class ReplyReader:
    """Feed it bytes as they arrive; it returns the replies they complete, in order."""

    def __init__(self) -> None:
        self._buffer = b""

    @property
    def buffered(self) -> int:
        """Bytes held back because they end inside a reply."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Any]:
        """Every reply completed by `data` (maybe none); raises `ProtocolError` on garbage."""
        if not self._buffer and data[:1] == b"$":  # the usual read: exactly one bulk string
            header_end = data.find(b"\r\n")
            if header_end > 1 and data[1:header_end].isdigit():
                start = header_end + 2
                stop = start + int(data[1:header_end])
                if len(data) == stop + 2 and data[stop:] == b"\r\n":
                    return [data[start:stop]]
        buffer = self._buffer + data if self._buffer else data
        replies: list[Any] = []
        position, end = 0, len(buffer)
        try:
            while position < end:
                reply, position = _parse(buffer, position)
                replies.append(reply)
        except _Incomplete:
            pass
        except ValueError as error:  # int() of garbage
            raise ProtocolError(f"not a RESP2 reply: {buffer[position:position + 40]!r}") from error
        self._buffer = buffer[position:] if position < end else b""
        return replies


def _line(buffer: bytes, position: int) -> tuple[bytes, int]:
    """The line starting at `position` (without CRLF) and where the next one starts."""
    newline = buffer.find(b"\r\n", position)
    if newline < 0:
        raise _Incomplete
    return buffer[position:newline], newline + 2


def _parse(buffer: bytes, position: int) -> tuple[Any, int]:
    """One reply starting at `position`: (value, position after it)."""
    if position >= len(buffer):  # e.g. an array whose items have not arrived yet
        raise _Incomplete
    kind = buffer[position]
    line, after = _line(buffer, position + 1)
    if kind == 0x24:  # $ bulk string: the hot path
        length = int(line)
        if length < 0:
            return None, after
        stop = after + length
        if stop + 2 > len(buffer):
            raise _Incomplete
        if buffer[stop:stop + 2] != b"\r\n":
            raise ProtocolError(f"bulk string of {length} bytes is not followed by CRLF")
        return buffer[after:stop], stop + 2
    if kind == 0x2B:  # + simple string
        return line, after
    if kind == 0x2D:  # - error
        return ReplyError(line.decode(errors="replace")), after
    if kind == 0x3A:  # : integer
        return int(line), after
    if kind == 0x2A:  # * array
        count = int(line)
        if count < 0:
            return None, after
        items = []
        for _ in range(count):
            item, after = _parse(buffer, after)
            items.append(item)
        return items, after
    raise ProtocolError(f"unexpected RESP type byte {bytes([kind])!r}")
