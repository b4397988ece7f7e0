"""``EdgeMiddleware``: the outermost pure-ASGI layer, three jobs behind one ``send`` wrapper.

1. Metrics: count and time every HTTP request by route template, method and status
   (``app.observability.metrics``), the 413s and 500s answered below included.
2. Security headers on every answer, a CSP on HTML pages (``app.http_headers``): the start
   of an HTML page is held until its body is complete, to hash its inline scripts.
3. The last line: an exception that escapes the app (or a middleware inside this one) is
   logged once and answered — an envelope, or GraphQL errors on ``/graphql`` — and not
   re-raised. Starlette's own last line re-raises after answering, which logs the error a
   second time and makes the server close the client's keep-alive connection.

One layer instead of three saves two wrapper calls per message on every request.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http_headers import with_page_policy, with_security_headers
from app.observability.metrics import record_http_request
from rest.errors import escaped_error_start, log_escaped


class EdgeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what is counted when no answer leaves this layer
        answering = False  # the app sent a start: too late to answer an error
        held: Message | None = None  # an HTML page's start
        page: list[bytes] = []

        async def edge_send(message: Message) -> None:
            nonlocal status, answering, held
            if message["type"] == "http.response.start":
                answering = True
                message, html = with_security_headers(message)
                if html:
                    held = message
                    return
                status = int(message["status"])
            elif held is not None and message["type"] == "http.response.body":
                page.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(page)
                start = with_page_policy(held, body)
                status = int(start["status"])
                await send(start)
                message = {"type": "http.response.body", "body": body}
            await send(message)

        try:
            try:
                await self.app(scope, receive, edge_send)
            except Exception as exc:
                log_escaped(scope, exc)
                if answering:
                    return  # a partial response; the server ends it by closing the connection
                start, body = escaped_error_start(scope, exc)
                await edge_send(start)
                await edge_send({"type": "http.response.body", "body": body})
        finally:
            record_http_request(scope, status, started)
