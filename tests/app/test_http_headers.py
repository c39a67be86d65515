"""`first_header`: the native search (`_native_headers.c`) against its Python twin.

CI builds the extension (`pip install -e .` compiles it), so `test_the_native_search_is_built`
fails rather than letting the suite silently compare the Python twin with itself.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import http_headers
from app.http_headers import _first_header, first_header

native_first_header: Any = importlib.import_module("app._native_headers").first_header

WANTED = (b"x-request-id", b"x-api-key", b"content-length", b"transfer-encoding")


def test_the_native_search_is_built() -> None:
    assert first_header is native_first_header, "app/_native_headers.c was not compiled"


@pytest.mark.parametrize("search", [native_first_header, _first_header], ids=["native", "python"])
def test_the_first_matching_header_wins_whatever_its_case(search: Any) -> None:
    headers = [(b"host", b"a"), (b"X-Api-KEY", b"first"), (b"x-api-key", b"second")]
    assert search(headers, (b"x-api-key",)) == b"first"
    assert search(headers, (b"content-length", b"host")) == b"a"  # any of the names
    assert search(headers, (b"x-request-id",)) is None
    assert search([], (b"host",)) is None
    assert search(iter(headers), (b"x-api-key",)) == b"first"  # any iterable of pairs


@pytest.mark.parametrize("search", [native_first_header, _first_header], ids=["native", "python"])
def test_pairs_may_be_lists_and_names_that_are_not_bytes_never_match(search: Any) -> None:
    headers = [("x-api-key", "text"), [b"x-api-key", b"bytes"]]
    assert search(headers, (b"x-api-key",)) == b"bytes"


@pytest.mark.parametrize("search", [native_first_header, _first_header], ids=["native", "python"])
@pytest.mark.parametrize(
    ("item", "error"), [((b"host",), ValueError), ((b"a", b"b", b"c"), ValueError), (7, TypeError)]
)
def test_an_item_that_is_not_a_pair_raises_as_unpacking_it_would(
    search: Any, item: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        search([item], (b"host",))


def test_the_native_search_refuses_names_it_cannot_compare() -> None:
    with pytest.raises(TypeError, match="tuple of lowercase bytes"):
        native_first_header([], [b"host"])
    with pytest.raises(TypeError, match="tuple of lowercase bytes"):
        native_first_header([], ("host",))
    with pytest.raises(TypeError):
        native_first_header([])


def test_floodgate_native_0_selects_the_python_twin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOODGATE_NATIVE", "0")
    assert http_headers._load_native() is None
    monkeypatch.setenv("FLOODGATE_NATIVE", "1")
    module = http_headers._load_native()
    assert module is not None
    assert module.first_header is native_first_header


def _random_case(name: bytes, flips: list[bool]) -> bytes:
    return bytes(
        c ^ 0x20 if flip and chr(c).isalpha() else c for c, flip in zip(name, flips, strict=False)
    ) + name[len(flips):]


header_names = st.one_of(
    st.builds(_random_case, st.sampled_from((*WANTED, b"host", b"x-api-ke", b"x-api-keyy")),
              st.lists(st.booleans(), max_size=20)),
    st.binary(max_size=20),
)
header_items = st.tuples(header_names, st.binary(max_size=8)).flatmap(
    lambda pair: st.sampled_from([pair, list(pair)])
)


@settings(max_examples=300, deadline=None)
@given(
    headers=st.lists(header_items, max_size=12),
    names=st.lists(st.sampled_from(WANTED), min_size=1, max_size=3).map(tuple),
)
def test_native_and_python_give_the_same_answer(
    headers: list[Any], names: tuple[bytes, ...]
) -> None:
    assert native_first_header(headers, names) is _first_header(headers, names)
