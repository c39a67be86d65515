"""Cross-site-scripting detection: markup or script that would *run* if echoed into a page.

Benign HTML is not XSS: Markdown READMEs carry `<div style=...>`, `<img src=https://...>` and
`<a href=...>`, which libinjection's XSS check and the seed's `<script>|on\\w+=` regex both
flag. These rules flag only what executes: script-capable elements, event-handler attributes
inside a tag (or right after a quote that closes an attribute), script URLs (`javascript:`,
`vbscript:`, `data:text/html`), CSS expressions, and calls to the proof-of-concept sinks
(`alert(1)`, `top["al"+"ert"](1)`) in a JavaScript context. They run on decoded views of the
input (URL, HTML entities, JS escapes, control characters and whitespace removed), see
`decoding.py`.

Detection is a guard and a signal. The defence is output encoding (escape on output,
`sanitizer.escape_html`) and, where HTML must be kept, allowlist sanitising with nh3
(`sanitizer.sanitize_html`), which removes every payload of the public corpora whether or not
it was detected.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.validation.decoding import folded_views
from app.validation.gates import contains_any

# None of these characters: no tag, no attribute, no URL scheme, no call. Nothing to look at.
_TRIGGERS = frozenset("<>:(`=&%\\")


# (gate, pattern) per rule: substring tests first, the regex only when they pass.
_RULES: dict[str, tuple[Callable[[str], bool], str]] = {
    # Elements that load or run code by themselves.
    "script_element": (
        contains_any("<"),
        r"<[\s/]*(script|iframe|frame|frameset|object|embed|applet|meta|base|link|style|xml"
        r"|import|layer|bgsound|isindex|portal)\b|<!--#(exec|include)\b",
    ),
    # An event handler inside a tag, or right after a quote that ends an attribute value.
    "event_handler": (
        lambda text: "on" in text and "=" in text,
        r"<[a-z!%?/][^>]*?[\s/\"'`;]on[a-z]{3,} ?=|<[a-z]+on[a-z]{3,} ?="
        r"|(^|[\"'`]) ?[^\s\"'<>=]{0,20}[\s/\"'`]on[a-z]{3,} ?= ?[\w\"'`(]",
    ),
    # Attributes that run or load script in any tag.
    "script_attribute": (
        lambda text: "<" in text and "=" in text,
        r"<[a-z][^>]*?[\s/\"'](formaction|srcdoc|dynsrc|lowsrc|xlink:href|attributename)\b ?="
        r"|<[a-z][^>]*?[\s/\"']style ?= ?[\"']?[^>]*?(expression ?\(|-moz-binding|behavior ?:"
        r"|javascript:|url ?\( ?[\"']?javascript)",
    ),
    # CSS that runs script (old IE expression(), Firefox XBL) or pulls remote style sheets.
    "css_script": (
        contains_any("expression", "-moz-binding", "@import"),
        r"\bexpression ?\( ?(alert|prompt|confirm|eval)|-moz-binding ?:|@import ?['\"]",
    ),
    # Calls to the sinks every proof of concept uses, in a script context.
    "script_call": (
        contains_any("alert", "prompt", "confirm"),
        r"\b(alert|prompt|confirm)(\( ?[^)]{0,40}\)|`[^`]*`)"
        r"|\( ?(alert|prompt|confirm) ?\) ?\(|[(,=] ?(alert|prompt|confirm) ?[),]",
    ),
    "computed_call": (
        contains_any("]("),
        r"\b(top|self|parent|window|frames|globalthis|this) ?\[[^\]]{1,40}\] ?\(",
    ),
    "script_api": (
        contains_any(
            "eval",
            "settimeout",
            "setinterval",
            "execscript",
            "msgbox",
            "fromcharcode",
            "document.",
            "location.",
            "innerhtml",
        ),
        r"\b(eval|settimeout|setinterval|execscript|msgbox) ?\( ?(atob|location|name|unescape"
        r"|url|src|id|this|string|document|window|top|['\"`])"
        r"|\bstring\.fromcharcode ?\(|\bdocument\.(cookie|domain|write ?\()"
        r"|\blocation\.(hash|href|search) ?(\.|=|\))|\binnerhtml ?=",
    ),
}
# Script URL schemes, with whitespace or control characters allowed inside the word (browsers
# drop them: `jav\tascript:`). Flagged when the scheme is glued to what follows
# (`javascript:alert(1)`) or sits where a URL goes (after `=`, a quote or a parenthesis);
# "JavaScript: The Good Parts" in a sentence is neither.
_GAP = r"[\s\x00-\x1f]*"
_SCHEMES = "|".join(_GAP.join(word) for word in ("javascript", "vbscript", "livescript", "mocha"))
_SCHEME = re.compile(
    rf"[=\"'`(]{_GAP}({_SCHEMES}){_GAP}:|({_SCHEMES}){_GAP}:[^\s]"
    r"|data:(text/html|text/javascript|image/svg|application/x?html|[^,]{0,40};base64)|data:,"
)
_COMPILED = [(name, gate, re.compile(pattern)) for name, (gate, pattern) in _RULES.items()]
_SCHEME_WORDS = contains_any("script", "mocha", "data:")


def xss_reason(text: str, prepared: list[tuple[str, str]] | None = None) -> str | None:
    """Name of the first rule that flags `text` as cross-site scripting, or None.

    `prepared` is `folded_views(text)` when the caller already has it.
    """
    if not text or _TRIGGERS.isdisjoint(text):
        return None
    for _, folded in prepared or folded_views(text):
        for name, gate, pattern in _COMPILED:
            if gate(folded) and pattern.search(folded):
                return name
        if ":" in folded and _SCHEME_WORDS(folded.replace(" ", "")) and _SCHEME.search(folded):
            return "script_url"
    return None


def detect_xss(text: str) -> bool:
    """True when `text` carries markup or script that would execute in a page."""
    return xss_reason(text) is not None
