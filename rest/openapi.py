"""The served OpenAPI document, corrected to what the routes really answer.

FastAPI documents a 422 ``HTTPValidationError`` on every operation with parameters; our
validation errors are 400 in the JSON envelope (``rest.errors``). Every operation also
documents ``default``: any other error status (405, 413, 415, 503...) in the same envelope.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from rest.models import ErrorOut

_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
_UNUSED = ("HTTPValidationError", "ValidationError")


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


def corrected(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with 422 replaced by 400 and an error ``default`` on every operation."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in (
        ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        .get("$defs", {})
        .items()
    ):
        schemas.setdefault(name, schema)
    error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    error_schema.pop("$defs", None)
    schemas.setdefault("ErrorOut", error_schema)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if responses.pop("422", None) is not None:
                responses.setdefault("400", _error("Bad input (the `path` names the parameter)"))
            responses.setdefault(
                "default", _error("Any other error, in the same envelope (405, 413, 503...)")
            )
    for name in _UNUSED:
        schemas.pop(name, None)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve FastAPI's generated document through ``corrected`` (built once, then cached)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = corrected(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
