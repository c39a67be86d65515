"""Identify a file's type from its first bytes (magic numbers), not from what the client says.

A declared `Content-Type: image/png` or a `.png` name costs an attacker nothing; the first bytes
of a real PNG are fixed by the format. Only formats a fraud-review service plausibly accepts are
listed; anything else is `application/octet-stream` (or `text/plain` for UTF-8 text without a
NUL byte), which an allowlist then refuses.
"""

from __future__ import annotations

_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
    (b"PK\x03\x04", 0, "application/zip"),
    (b"\x1f\x8b", 0, "application/gzip"),
)
_RIFF_TYPES = {b"WEBP": "image/webp"}
TEXT = "text/plain"
UNKNOWN = "application/octet-stream"

# What a file name's extension claims; used to refuse `report.png` that is really a PDF.
EXTENSION_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "zip": "application/zip",
    "gz": "application/gzip",
    "txt": TEXT,
    "csv": TEXT,
}


def sniff(content: bytes) -> str:
    """The MIME type the content itself proves, or text/plain, or application/octet-stream."""
    for signature, offset, mime in _SIGNATURES:
        if content[offset : offset + len(signature)] == signature:
            return mime
    if content[:4] == b"RIFF" and content[8:12] in _RIFF_TYPES:
        return _RIFF_TYPES[content[8:12]]
    head = content[:4096]
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            if error.start < len(head) - 3:  # not just a character cut at the 4 KiB boundary
                return UNKNOWN
        return TEXT
    return UNKNOWN
