"""Floodgate flows: the six-step rollout workflow as Prefect 3 flows, and the pure logic
behind it."""
