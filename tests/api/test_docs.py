"""The API docs pages load everything from this server: no CDN, no internet."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_docs_and_redoc_reference_no_remote_asset(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        answer = client.get(page)
        assert answer.status_code == 200, page
        html = answer.text
        assert not re.search(r"https?://", html), page
        assets = re.findall(r'(?:src|href)="(/docs-assets/[^"]+)"', html)
        assert assets, page
        for asset in assets:
            served = client.get(asset)
            assert served.status_code == 200 and len(served.content) > 1000, asset
    assert "'/openapi.json'" in client.get("/docs").text
    assert client.get("/docs/oauth2-redirect").status_code == 200


def test_swagger_ui_can_render_the_openapi_version_served(client: TestClient) -> None:
    version = client.get("/openapi.json").json()["openapi"]
    bundle = client.get("/docs-assets/swagger-ui-bundle.js").text
    # Swagger UI renders OpenAPI 3.1 (FastAPI's) from version 5 on.
    assert version.startswith("3.1") and re.search(r'"5\.\d+\.\d+"', bundle)
