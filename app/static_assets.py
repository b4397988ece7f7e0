"""Files a page loads (GraphiQL, Swagger UI), served from the process itself: a fixed table
of name → file, so nothing outside it is reachable; cacheable for a day."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from starlette.responses import FileResponse

from app.errors import NotFound

MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def asset_response(assets: Mapping[str, Path], name: str) -> FileResponse:
    path = assets.get(name)
    if path is None:
        raise NotFound(f"no asset named {name!r}", path="name")
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=86400"},
    )
