"""Launchers for the real services the tests talk to (redis-server, Prometheus, Prefect, ...)."""
