"""Content sniffing by magic bytes."""

from __future__ import annotations

import pytest

from app.validation.file_types import TEXT, UNKNOWN, sniff

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


@pytest.mark.parametrize(
    ("content", "mime"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"PK\x03\x04", "application/zip"),
        (b"#!/bin/sh\nrm -rf /\n", TEXT),
        (b"<script>alert(1)</script>", TEXT),
        (b"\x00\x01\x02\x03binary", UNKNOWN),
        (b"\xff\xfe\xfd not utf-8 at all, and long enough", UNKNOWN),
    ],
)
def test_sniff(content: bytes, mime: str) -> None:
    assert sniff(content) == mime


def test_utf8_character_cut_at_the_sniff_window_is_still_text() -> None:
    content = b"a" * 4095 + "é".encode()  # the 4 KiB window ends inside "é"
    assert sniff(content) == TEXT
