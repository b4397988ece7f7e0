"""``/docs``: Swagger UI served by the process itself, so the REST reference works without
internet access. The Swagger UI release files come from the ``fastapi-swagger`` package
(its ``resources``; the package's own FastAPI patch is not used, because its page carries an
inline script); the page and its start-up script are ours, with no inline script, so they
run under a Content-Security-Policy limited to 'self'."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse, HTMLResponse

from app.static_assets import asset_response

_OWN = Path(__file__).parent / "docs_assets"
_SWAGGER = Path(str(files("fastapi_swagger.resources")))
ASSETS: dict[str, Path] = {
    "swagger-ui-bundle.js": _SWAGGER / "swagger-ui-bundle.js",
    "swagger-ui.css": _SWAGGER / "swagger-ui.css",
    "favicon-32x32.png": _SWAGGER / "favicon-32x32.png",
    "swagger-init.js": _OWN / "swagger-init.js",
}
_PAGE = (_OWN / "docs.html").read_bytes()

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def docs_page() -> HTMLResponse:
    return HTMLResponse(_PAGE)


@router.get("/docs/assets/{name}")
async def docs_asset(name: str) -> FileResponse:
    return asset_response(ASSETS, name)
