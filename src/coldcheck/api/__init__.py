"""The JSON API: ``create_app(settings)`` (FastAPI) and ``serve`` (uvicorn)."""

from .app import create_app

__all__ = ["create_app"]
