"""The GraphiQL and Swagger UI pages load only files this process serves (no CDN), with no
inline script (a 'self' Content-Security-Policy must be enough). The browser test in
tests/browser runs them for real."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.app import Api

_REFERENCES = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.mark.parametrize("page", ["/graphql", "/docs"])
async def test_page_loads_only_local_assets(api: Api, page: str) -> None:
    response = await api.http.get(page, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<script>" not in html  # every script is a file
    assert "<style" not in html
    references = _REFERENCES.findall(html)
    assert len(references) >= 3
    for reference in references:
        assert reference.startswith(f"{page}/assets/"), reference
        asset = await api.http.get(reference)
        assert asset.status_code == 200, reference
        assert asset.headers["content-type"].split(";")[0] in (
            "text/javascript",
            "text/css",
            "image/png",
        )


async def test_unknown_asset_is_a_404_in_the_envelope(api: Api) -> None:
    for url in ("/graphql/assets/nope.js", "/docs/assets/..%2Fdocs_page.py"):
        response = await api.http.get(url)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_redoc_is_not_served(api: Api) -> None:
    # ReDoc's page loads its script from a CDN; /docs is the one API reference.
    assert (await api.http.get("/redoc")).status_code == 404
