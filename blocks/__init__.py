"""Prefect Block types for what the flows talk to: targets, Prometheus, Redis, analysis policies."""
