"""The JSON API: ``build_api(state)`` (FastAPI). ``coldcheck.asgi.create_app``
builds the whole server; ``coldcheck.server.serve`` runs it with uvicorn."""

from .app import build_api

__all__ = ["build_api"]
