"""`SecurityRuleValidator`: policy rules: blocked domains, uploads, batch sizes.

Each check raises `InvalidInput(field, reason)`; nothing is silently corrected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sized
from urllib.parse import urlsplit

from app.validation import file_types
from app.validation.errors import InvalidInput
from app.validation.validators import to_ascii_domain

MAX_BATCH_ITEMS = 1000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
DEFAULT_UPLOAD_TYPES = frozenset({"image/png", "image/jpeg", "application/pdf"})


def _host_of(value: str) -> str:
    """The host part of a URL, e-mail address or bare domain."""
    value = value.strip()
    if "://" in value:
        return urlsplit(value).hostname or ""
    if "@" in value:
        return value.rsplit("@", 1)[1]
    return value


class SecurityRuleValidator:
    """Configured once per service; the checks are pure and thread-safe."""

    def __init__(
        self,
        *,
        blocked_domains: Iterable[str] = (),
        allowed_upload_types: frozenset[str] = DEFAULT_UPLOAD_TYPES,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        max_batch_items: int = MAX_BATCH_ITEMS,
    ) -> None:
        normalised = set()
        for domain in blocked_domains:
            ascii_domain = to_ascii_domain(domain)
            if ascii_domain is None:
                raise ValueError(f"blocked domain {domain!r} is not a valid domain name")
            normalised.add(ascii_domain)
        self.blocked_domains = frozenset(normalised)
        self.allowed_upload_types = allowed_upload_types
        self.max_upload_bytes = max_upload_bytes
        self.max_batch_items = max_batch_items

    def is_blocked_domain(self, value: str) -> bool:
        """True if the host of `value` (URL, e-mail or domain) is a blocked domain or below one.

        Case, a trailing dot and Unicode vs punycode spellings all compare equal; a host that
        is not a valid domain name is treated as blocked (it cannot be checked).
        """
        host = to_ascii_domain(_host_of(value))
        if host is None:
            return True
        labels = host.split(".")
        return any(".".join(labels[i:]) in self.blocked_domains for i in range(len(labels)))

    def check_domain(self, field: str, value: str) -> None:
        if self.is_blocked_domain(value):
            raise InvalidInput(field, "domain is blocked or invalid")

    def check_upload(self, filename: str, declared_type: str | None, content: bytes) -> str:
        """The content's real MIME type, if size, content, declared type and extension agree."""
        if len(content) > self.max_upload_bytes:
            raise InvalidInput("file", f"larger than {self.max_upload_bytes} bytes")
        if not content:
            raise InvalidInput("file", "empty")
        actual = file_types.sniff(content)
        if actual not in self.allowed_upload_types:
            raise InvalidInput("file", f"content is {actual}, which is not accepted")
        declared = (declared_type or "").split(";")[0].strip().lower()
        if declared and declared != actual:
            raise InvalidInput("file", f"declared {declared} but content is {actual}")
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if file_types.EXTENSION_TYPES.get(extension) != actual:
            raise InvalidInput("file", f"name {filename!r} does not match content {actual}")
        return actual

    def check_batch(self, items: Sized) -> None:
        if len(items) > self.max_batch_items:
            raise InvalidInput("items", f"{len(items)} items; at most {self.max_batch_items}")
