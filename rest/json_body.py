"""JSON request bodies through ``app.json_input`` instead of FastAPI's ``json.loads``.

FastAPI would accept ``NaN``, recurse into any depth and turn its own parse failures into a
message without a path; routes built with ``StrictJsonRoute`` parse the body once, strictly,
before the endpoint runs, so a refused body is a 400 in the envelope naming the fault.
"""

from __future__ import annotations

import email.message
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from app.json_input import loads


def is_json(content_type: str | None) -> bool:
    """FastAPI's own rule: no content type, ``application/json`` or ``application/*+json``."""
    if not content_type:
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            request = StrictJsonRequest(request.scope, request.receive)
            if is_json(request.headers.get("content-type")) and await request.body():
                await request.json()  # a BadInput here reaches the envelope handler
            return await handler(request)

        return strict_handler
