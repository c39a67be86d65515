"""RESP2 encoding and the incremental reply reader: every reply type, any chunking, garbage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.rate_limiting.resp import ProtocolError, ReplyError, ReplyReader, encode_command

# One reply of each kind, and what the reader makes of it.
SAMPLES: list[tuple[bytes, object]] = [
    (b"+OK\r\n", b"OK"),
    (b":-42\r\n", -42),
    (b"$5\r\nhello\r\n", b"hello"),
    (b"$0\r\n\r\n", b""),
    (b"$-1\r\n", None),
    (b"$4\r\na\r\nb\r\n", b"a\r\nb"),  # a bulk string may hold CRLF: its length decides
    (b"*-1\r\n", None),
    (b"*0\r\n", []),
    (b"*3\r\n:1\r\n$1\r\nx\r\n*1\r\n+y\r\n", [1, b"x", [b"y"]]),
]


def test_commands_are_arrays_of_bulk_strings() -> None:
    assert encode_command([b"EVALSHA", "abc", 1, "k", 2.5]) == (
        b"*5\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n1\r\n$1\r\nk\r\n$3\r\n2.5\r\n"
    )
    assert encode_command(["SET", "clé"]) == b"*2\r\n$3\r\nSET\r\n$4\r\ncl\xc3\xa9\r\n"


@pytest.mark.parametrize(("wire", "value"), SAMPLES)
def test_each_reply_type_is_decoded(wire: bytes, value: object) -> None:
    reader = ReplyReader()
    assert reader.feed(wire) == [value]
    assert reader.buffered == 0


def test_error_replies_are_values_with_their_code() -> None:
    [error] = ReplyReader().feed(b"-NOSCRIPT No matching script. Please use EVAL.\r\n")
    assert isinstance(error, ReplyError)
    assert error.code == "NOSCRIPT"
    assert "No matching script" in str(error)


def test_an_error_inside_an_array_stays_in_its_place() -> None:
    [reply] = ReplyReader().feed(b"*2\r\n:1\r\n-ERR boom\r\n")
    assert reply[0] == 1
    assert isinstance(reply[1], ReplyError)


def test_a_partial_reply_waits_for_the_rest() -> None:
    reader = ReplyReader()
    assert reader.feed(b"$11\r\nhello") == []
    assert reader.buffered == 10
    assert reader.feed(b" world\r\n:7") == [b"hello world"]
    assert reader.feed(b"\r\n") == [7]
    assert reader.buffered == 0


@given(st.lists(st.sampled_from(SAMPLES), min_size=1, max_size=8), st.data())
def test_any_chunking_of_a_reply_stream_gives_the_same_replies(
    samples: list[tuple[bytes, object]], data: st.DataObject
) -> None:
    stream = b"".join(wire for wire, _ in samples)
    cuts = sorted(data.draw(st.sets(st.integers(1, len(stream) - 1), max_size=10)))
    reader = ReplyReader()
    replies = []
    for start, stop in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        replies.extend(reader.feed(stream[start:stop]))
    assert replies == [value for _, value in samples]
    assert reader.buffered == 0


@pytest.mark.parametrize(
    "garbage",
    [b"?what\r\n", b"$abc\r\n", b":12x\r\n", b"$3\r\nabcdef\r\n", b"*x\r\n"],
    ids=["type", "bulk-length", "integer", "bulk-without-crlf", "array-length"],
)
def test_garbage_is_a_protocol_error(garbage: bytes) -> None:
    with pytest.raises(ProtocolError):
        ReplyReader().feed(garbage)
