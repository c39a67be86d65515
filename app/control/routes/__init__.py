"""The control API's routes, one module per resource (FastAPI full-stack-template style)."""
