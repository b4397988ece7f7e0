"""GraphiQL served by the process itself, so ``/graphql`` works in a browser without
internet access. GraphiQL's release files are committed under ``assets/`` at the versions
in ``assets/VERSIONS`` (``fetch_assets.sh`` re-fetches them from the npm registry when a
version is bumped); nothing is fetched at run time. The page has no inline script or
style, so it runs under a Content-Security-Policy limited to 'self'.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse, HTMLResponse

from app.static_assets import MEDIA_TYPES, asset_response

_HERE = Path(__file__).parent
# Every file the page may load, by the name it is served under (nothing else is served).
ASSETS: dict[str, Path] = {
    path.name: path
    for folder in (_HERE, _HERE / "assets")
    for path in sorted(folder.iterdir())
    if path.suffix in MEDIA_TYPES
}
_PAGE = (_HERE / "graphiql.html").read_bytes()


def graphiql_page() -> HTMLResponse:
    return HTMLResponse(_PAGE)


async def graphiql_asset(name: str) -> FileResponse:
    """``/graphql/assets/{name}``: one of the committed GraphiQL files."""
    return asset_response(ASSETS, name)
