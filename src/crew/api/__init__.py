"""REST API and dashboard (FastAPI, server-rendered pages)."""

from crew.api.app import create_app

__all__ = ["create_app"]
