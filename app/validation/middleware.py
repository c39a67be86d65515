"""`ValidationMiddleware`: body-size limit and suspicious-input screening, as pure ASGI.

Pure ASGI rather than Starlette's BaseHTTPMiddleware (which costs ~0.3 ms a request and breaks
context variables). Per HTTP request it:

1. refuses a body whose Content-Length is over `settings.max_body_bytes` (413) or malformed
   (400), before reading anything;
2. reads the body, counting bytes as they stream in, and answers 413 the moment the limit is
   passed, so a 50 MB upload never reaches memory or the app (an HTTP/1.x GET or HEAD that
   announces no body is not read: it has none, see `body_limit.is_bodyless`);
3. screens the query string, and the body when it is JSON or a form, with `DataSanitizer`;
4. on a finding, in `block` mode answers 400 naming the field and the reason; in `report` mode
   logs it, counts it and lets the request through with its body intact (replayed to the app).

Malformed JSON syntax is not ours to judge: the request goes on to the app, whose own parser
answers 422 in its usual format. What the app could not even report on is refused here with
400: JSON nested too deeply for Python's parser, JSON that is not UTF-8/16/32 or holds lone
surrogates, and text bodies (no content type, `text/*`) that do not decode in their charset.
FastAPI answers 500 to those itself (its 422 handler fails to encode the bad input), which is
what the property tests in tests/app/validation/test_middleware_fuzz.py found.
Non-HTTP scopes (websocket, lifespan) and `exempt_paths` pass straight through.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from app.config import Settings, ValidationMode
from app.http_headers import first_header
from app.validation.body_limit import (
    BODYLESS_METHODS,
    FRAMED_VERSIONS,
    BodyTooLarge,
    ClientDisconnected,
    MalformedContentLength,
    body_framing,
    is_bodyless,
    read_body,
    replaying,
)
from app.validation.paths import is_covered, path_rules
from app.validation.sanitizer import DataSanitizer
from app.validation.scanning import (
    Finding,
    JsonTooDeep,
    NoScreening,
    ThreatDetector,
    UndecodableBody,
    check_text,
    scan_json,
    scan_query,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("floodgate.validation")
_FRAMING_HEADERS = (b"content-length", b"transfer-encoding")
_CONTENT_TYPE = (b"content-type",)
NO_SCREENING = NoScreening()


@dataclass(frozen=True, slots=True)
class SuspiciousInput:
    """What the `on_suspicious` hook receives: one flagged request."""

    method: str
    path: str
    location: str  # "query" or "body"
    field: str
    kind: str
    rule: str
    action: str  # "blocked" or "reported"


SuspiciousHook = Callable[[SuspiciousInput], None]


def suspicious_input_counter(registry: CollectorRegistry) -> SuspiciousHook:
    """A hook counting flagged inputs on `registry` (never the global default registry).

    Labels are bounded sets (kind, detector rule, location, action); never the path or value.
    Create one per registry: registering the metric twice on one registry is an error.
    """
    counter = Counter(
        "floodgate_suspicious_inputs",
        "Requests whose query or body looked like an injection attempt.",
        ["kind", "rule", "location", "action"],
        registry=registry,
    )

    def count(event: SuspiciousInput) -> None:
        counter.labels(event.kind, event.rule, event.location, event.action).inc()

    return count


def _content_type(headers: list[tuple[bytes, bytes]]) -> tuple[bytes, str]:
    """(media type, charset) of the body; charset defaults to UTF-8."""
    value = first_header(headers, _CONTENT_TYPE)
    if value is None:
        return b"", "utf-8"
    media_type, _, params = value.partition(b";")
    charset = "utf-8"
    for param in params.split(b";"):
        key, _, val = param.partition(b"=")
        if key.strip().lower() == b"charset":
            charset = val.strip(b" \"'").decode("latin-1") or charset
    return media_type.strip().lower(), charset


def _is_json(content_type: bytes) -> bool:
    return content_type == b"application/json" or content_type.endswith(b"+json")


async def _respond(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if status == 413:
        headers.append((b"connection", b"close"))  # the unread rest of the body is not wanted
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ValidationMiddleware:
    """Wrap an ASGI app: `ValidationMiddleware(app, settings, registry=project_registry)`.

    `exempt_paths` (prefixes) skip everything, size limit included: probes and scrapes.
    `unscreened_paths` (plus `settings.validation_unscreened_paths`; a path and what lies below
    it, see `paths.py`) keep the size limit and the checks that keep the app from crashing
    (malformed Content-Length, JSON nested too deeply, undecodable text) but skip injection
    screening: for authenticated configuration bodies whose values may legitimately look like
    SQL or markup (a rollout's `env`).
    """

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        *,
        registry: CollectorRegistry | None = None,
        on_suspicious: SuspiciousHook | None = None,
        exempt_paths: Iterable[str] = (),
        unscreened_paths: Iterable[str] = (),
        sanitizer: DataSanitizer | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = settings.max_body_bytes
        self.block = settings.validation_mode is ValidationMode.BLOCK
        self.sanitizer = sanitizer or DataSanitizer()
        self.exempt_paths = tuple(exempt_paths)
        self.unscreened_paths = path_rules(
            dict.fromkeys([*settings.validation_unscreened_paths, *unscreened_paths])
        )
        self.hooks: list[SuspiciousHook] = []
        if registry is not None:
            self.hooks.append(suspicious_input_counter(registry))
        if on_suspicious is not None:
            self.hooks.append(on_suspicious)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.has_work(scope):
            await self.app(scope, receive, send)
            return
        app_receive = await self.admit(scope, receive, send)
        if app_receive is not None:
            await self.app(scope, app_receive, send)

    def has_work(self, scope: Scope) -> bool:
        """Whether `admit` has anything to do for this request. Not for probes and scrapes
        (`exempt_paths` prefixes skip validation, size limit included), nor for what most
        requests are: an HTTP/1.x GET or HEAD with no body, no Content-Length and no query
        string (nothing to read, limit or screen; `admit` would pass it through unchanged).
        One function, not one per rule: it runs for every request."""
        if self.exempt_paths and scope["path"].startswith(self.exempt_paths):
            return False
        if scope.get("query_string") or scope["method"] not in BODYLESS_METHODS:
            return True
        if first_header(scope["headers"], _FRAMING_HEADERS) is not None:
            return True
        return scope.get("http_version") not in FRAMED_VERSIONS

    async def admit(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Apply the size limit and screening to one request. Returns the `receive` to hand the
        app (replaying a body read here), or None when this answered the request itself
        (400, 413, or a client that went away) with `send`."""
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        try:
            length, transfer_encoded = body_framing(headers)
        except MalformedContentLength as error:
            await _respond(send, 400, {"detail": str(error)})
            return None
        if length is not None and length > self.max_body_bytes:
            await self._too_large(send)
            return None
        if is_bodyless(scope, length, transfer_encoded):
            body, app_receive = b"", receive
        else:
            try:
                body = await read_body(receive, self.max_body_bytes)
            except BodyTooLarge:
                await self._too_large(send)
                return None
            except ClientDisconnected:
                return None
            app_receive = replaying(body, receive)
        if not body and not scope.get("query_string"):  # nothing to screen
            return app_receive
        detector: ThreatDetector = self.sanitizer
        if self.unscreened_paths and is_covered(scope["path"], self.unscreened_paths):
            detector = NO_SCREENING
        try:
            finding = self._scan(scope, headers, body, detector)
        except JsonTooDeep:
            await _respond(send, 400, {"detail": "JSON nested too deeply", "field": "$"})
            return None
        except UndecodableBody as error:
            await _respond(send, 400, {"detail": str(error)})
            return None
        if finding is not None:
            location, hit = finding
            if self._report(scope, location, hit):
                await _respond(
                    send,
                    400,
                    {
                        "detail": "suspicious input refused",
                        "location": location,
                        "field": hit.field,
                        "reason": hit.threat.kind.value,
                        "rule": hit.threat.rule,
                    },
                )
                return None
        return app_receive

    def _scan(
        self, scope: Scope, headers: list[tuple[bytes, bytes]], body: bytes,
        detector: ThreatDetector,
    ) -> tuple[str, Finding] | None:
        """The body first (it may be undecodable, which must be refused even in report mode),
        then the query string."""
        hit: Finding | None = None
        if body:
            content_type, charset = _content_type(headers)
            try:
                if _is_json(content_type):
                    hit = scan_json(detector, body)
                elif content_type == b"application/x-www-form-urlencoded":
                    hit = scan_query(detector, body, prefix="form")
                elif not content_type or content_type.startswith(b"text/"):
                    check_text(body, charset)
            except (JsonTooDeep, UndecodableBody):
                raise
            except ValueError:  # not JSON: the app's parser answers (422)
                hit = None
            if hit is not None:
                return "body", hit
        query: bytes = scope.get("query_string", b"")
        if not query:
            return None
        hit = scan_query(detector, query)
        return ("query", hit) if hit is not None else None

    def _report(self, scope: Scope, location: str, hit: Finding) -> bool:
        """Log and count a finding; True if the request must be refused."""
        event = SuspiciousInput(
            method=scope.get("method", ""),
            path=scope.get("path", ""),
            location=location,
            field=hit.field,
            kind=hit.threat.kind.value,
            rule=hit.threat.rule,
            action="blocked" if self.block else "reported",
        )
        logger.warning(
            "suspicious input %s: %s %s %s field=%s rule=%s",
            event.action,
            event.method,
            event.path,
            event.kind,
            event.field,
            event.rule,
        )
        for hook in self.hooks:
            try:
                hook(event)
            except Exception:  # a broken metrics hook must not turn into a 500
                logger.exception("on_suspicious hook failed")
        return self.block

    async def _too_large(self, send: Send) -> None:
        await _respond(
            send, 413, {"detail": f"request body larger than {self.max_body_bytes} bytes"}
        )
