"""Runtime for services: pure-ASGI middleware (rate limiting, validation, monitoring)
and the control API."""
