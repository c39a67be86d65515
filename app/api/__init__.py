"""HTTP routes of the runtime (health, metrics) and their FastAPI dependencies."""
