"""Input validation for Floodgate's runtime: size limits, injection screening, typed fields.

Interface (what `app/main.py` and monitoring use)::

    from prometheus_client import CollectorRegistry
    from app.validation import ValidationMiddleware, suspicious_input_counter

    app = ValidationMiddleware(
        app,                      # any ASGI app (pure ASGI; non-HTTP scopes pass through)
        settings,                 # app.config.Settings: validation_mode, max_body_bytes
        registry=registry,        # optional: count on the project's registry ...
        on_suspicious=hook,       # ... and/or call hook(SuspiciousInput) per flagged request
        exempt_paths=("/metrics",),  # optional path prefixes left alone entirely
        unscreened_paths=("/rollouts",),  # optional: size limit kept, no injection screening
    )

* `settings.max_body_bytes` (MAX_BODY_BYTES, 1 MiB): every request body, checked against
  Content-Length first and then counted while streaming: 413 `{"detail": ...}`; a bad
  Content-Length is a 400.
* `settings.validation_unscreened_paths` (VALIDATION_UNSCREENED_PATHS) and `unscreened_paths`:
  a path and what lies below it (`/rollouts` covers `/rollouts/x`, not `/rollouts-x`) whose
  values are not screened for injection; the size limit and the 400s for bodies that would
  crash the app still apply. For authenticated configuration bodies whose values may
  legitimately look like SQL (the control API's `/rollouts` and `/webhooks/`).
* `settings.validation_mode` (VALIDATION_MODE): `block` answers 400
  `{"detail", "location": "query"|"body", "field": "query.q"|"$.items[0].note",
  "reason": "sql_injection"|"xss"|"null_byte", "rule"}`; `report` logs (logger
  `floodgate.validation`), counts, and passes the request on with its body intact.
* Metric (when `registry` is given): counter `floodgate_suspicious_inputs_total` with labels
  `kind`, `rule`, `location`, `action` (`blocked`|`reported`). No metric is ever registered on
  prometheus_client's global default registry. Or pass `on_suspicious` and count it yourself.
* Malformed JSON passes through to the app (FastAPI answers 422). Refused here with 400: JSON
  too deeply nested to parse, JSON that is not UTF-8/16/32 or holds lone surrogates, text
  bodies that do not decode. `create_app` should also call
  `install_validation_error_handler(app)`: FastAPI's own 422 handler crashes (500) echoing
  binary input back, e.g. an image posted to a JSON route. Never a 500, property-tested.
* Cost (bench/validation_detection.py): ~20 µs CPU for a GET with a query string, ~90 µs for a
  0.7 kB JSON body with 52 strings; plain identifiers and numbers cost well under 1 µs each.

Building blocks, usable on their own: `DataSanitizer` (detect_sql_injection, detect_xss,
escape_html, sanitize_html via nh3, remove_null_bytes, validate_email/url/phone),
`InputValidator` (pagination, decimal ranges, 90-day date ranges, JSON size),
`SecurityRuleValidator` (blocked domains, uploads checked by magic bytes, batch size) and the
pydantic types in `app.validation.types` (RiskScore, Confidence, Currency, UserId). Checks
raise `InvalidInput(field, reason)`.

Detection is a guard and a signal, not the defence: parameterised queries and output encoding
are. bench/validation_detection.py measures what the detectors catch and what they wrongly flag.
"""

from app.validation.errors import InvalidInput
from app.validation.fastapi_errors import install_validation_error_handler
from app.validation.input_validator import InputValidator
from app.validation.middleware import (
    SuspiciousInput,
    ValidationMiddleware,
    suspicious_input_counter,
)
from app.validation.sanitizer import DataSanitizer, Threat, ThreatKind
from app.validation.security_rules import SecurityRuleValidator

__all__ = [
    "DataSanitizer",
    "InputValidator",
    "InvalidInput",
    "SecurityRuleValidator",
    "SuspiciousInput",
    "Threat",
    "ThreatKind",
    "ValidationMiddleware",
    "install_validation_error_handler",
    "suspicious_input_counter",
]
