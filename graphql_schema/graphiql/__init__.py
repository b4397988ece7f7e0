"""GraphiQL served by the process itself, so ``/graphql`` works in a browser without
internet access. GraphiQL's release files are committed under ``assets/`` at the versions
in ``assets/VERSIONS`` (``fetch_assets.sh`` re-fetches them from the npm registry when a
version is bumped); nothing is fetched at run time. The page has no inline script or
style, so it runs under a Content-Security-Policy limited to 'self'.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse, HTMLResponse

from app.errors import NotFound

_HERE = Path(__file__).parent
_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}
# Every file the page may load, by the name it is served under (nothing else is served).
ASSETS: dict[str, Path] = {
    path.name: path
    for folder in (_HERE, _HERE / "assets")
    for path in sorted(folder.iterdir())
    if path.suffix in _MEDIA_TYPES
}
_PAGE = (_HERE / "graphiql.html").read_bytes()


def graphiql_page() -> HTMLResponse:
    return HTMLResponse(_PAGE)


async def graphiql_asset(name: str) -> FileResponse:
    """``/graphql/assets/{name}``: one of the committed GraphiQL files, cacheable for a day."""
    path = ASSETS.get(name)
    if path is None:
        raise NotFound(f"no GraphiQL asset named {name!r}", path="name")
    return FileResponse(
        path,
        media_type=_MEDIA_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=86400"},
    )
