"""Security headers on every response; a Content-Security-Policy on HTML pages.

Every response gets ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy:
no-referrer``. HTML (GraphiQL at ``GET /graphql``, Swagger UI at ``/docs``) also gets a
CSP that forbids framing (``frame-ancestors 'none'``, plus ``X-Frame-Options: DENY`` for old
browsers), allows scripts, styles and fonts only from this origin (both pages are served
from the process, see docs/graphql.md and docs/rest.md) plus any inline script by its
hash (computed from the body, so the policy cannot drift from the page), images and fonts
also as ``data:`` URIs (Swagger UI's icons, GraphiQL's fonts), and lets the page talk to
this origin only (HTTP and its WebSocket).
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import Message

_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def content_security_policy(html: bytes) -> bytes:
    """The CSP of one HTML page: its inline scripts are allowed by their sha256 only."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; ".replace(" ;", ";")
        + "style-src 'self'; "
        "font-src 'self' data:; "
        "img-src 'self' data:; "
        "connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ).encode()


def with_security_headers(start: Message) -> tuple[Message, bool]:
    """``http.response.start`` with the headers every answer gets, and whether it is an
    HTML page (whose CSP needs the complete body, see ``with_page_policy``)."""
    headers = [*start.get("headers", ()), *_ALWAYS]
    content_type = dict(headers).get(b"content-type", b"")
    return {**start, "headers": headers}, content_type.startswith(b"text/html")


def with_page_policy(start: Message, page: bytes) -> Message:
    """The held start of an HTML page, with the CSP of its complete body."""
    start["headers"] = [
        *start["headers"],
        (b"content-security-policy", content_security_policy(page)),
        (b"x-frame-options", b"DENY"),
    ]
    return start
