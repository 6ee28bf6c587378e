"""Upload API (FastAPI): ``POST /v1/records``, ``GET /v1/records/{id}``, ``GET /v1/records``."""

from ingest.api.app import create_app

__all__ = ["create_app"]
