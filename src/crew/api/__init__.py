"""REST API and dashboard (FastAPI, server-rendered pages)."""
