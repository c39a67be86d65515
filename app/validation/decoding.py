"""Decoded views of an input, so detection sees what a browser or a database would see.

Attackers hide payloads behind one layer of encoding (`%27`, `&#x6A;`, `\\u0061`, `/**/`,
tabs inside `java\\tscript:`). Each detector runs its rules on a handful of *views* of the input:
the text itself and each decoding that changes it. Every decoder is tried only when the text
contains its trigger character, so plain text costs one `in` test per decoder.
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

_PERCENT = re.compile(r"%(?:[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})")
_PERCENT_U = re.compile(r"%u([0-9a-fA-F]{4})")
_JS_ESCAPE = re.compile(r"\\(?:u\{?([0-9a-fA-F]{4})\}?|x([0-9a-fA-F]{2})|([0-7]{3}))")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _js_unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1) or match.group(2)
        return chr(int(code, 16)) if code else chr(int(match.group(3), 8))

    return _JS_ESCAPE.sub(replace, text)


def url_decoded(text: str) -> str:
    """Percent-decoding, twice at most (double encoding), plus IIS-style `%uXXXX`."""
    for _ in range(2):
        if "%" not in text or not _PERCENT.search(text):
            break
        text = unquote(_PERCENT_U.sub(lambda m: chr(int(m.group(1), 16)), text), errors="replace")
    return text


def views(text: str) -> list[str]:
    """The input and its distinct decodings: URL, HTML entities, JS escapes, comments, controls.

    Decodings are applied cumulatively (URL first, as a server would), so `%26%2360;` ends up
    as `<`. The first view is always the original text.
    """
    out = [text]
    current = url_decoded(text)
    if "&" in current:
        current = html.unescape(current)
    if "\\" in current:
        current = _js_unescape(current)
    if current != text:
        out.append(current)
    if "/*" in current:
        stripped = _BLOCK_COMMENT.sub(" ", current)
        out.append(stripped)
        out.append(_BLOCK_COMMENT.sub("", current))
    if not current.isprintable() and _CONTROL.search(current):
        out.append(_CONTROL.sub("", current))
    return out


def squeeze(text: str) -> str:
    """Lower-case, whitespace runs folded to one space and trimmed (rules need no `\\s+`)."""
    return " ".join(text.split()).lower()


def folded_views(text: str) -> list[tuple[str, str]]:
    """(view, squeezed view) pairs; computed once per input and shared by both detectors."""
    return [(view, squeeze(view)) for view in views(text)]
