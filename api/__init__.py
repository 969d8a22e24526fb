"""The HTTP API (FastAPI): REST under ``/api/v1``, health, metrics and OpenAPI.

It reads through `store` (and, as it grows, `ledger`) only; the composition root hands it
an open connection pool and a metrics registry, so building the app connects to nothing.
"""
