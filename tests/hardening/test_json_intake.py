"""Every JSON input reaches the one strict decoder (``app.json_input``): request bodies by
their route class, everything else by construction — no other decoder in the layers that
take input from outside."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from app.main import create_app
from app.settings import Settings
from rest.json_body import StrictJsonRoute

ROOT = Path(__file__).resolve().parents[2]
INPUT_LAYERS = ("app", "rest", "graphql_schema")
DECODERS = re.compile(r"\bjson\.loads\(|\borjson\.loads\(|\bJSONDecoder\b|\.json\(\)")
# Where a decoder may appear, and why it is not a way in for a value.
ALLOWED = {
    "app/json_input.py": "the decoder itself",
    # calls StrictJsonRequest.json(), i.e. app.json_input.loads
    "rest/json_body.py": "StrictJsonRoute",
    # looks for NUL only, then passes the same body on to the router's parse_json
    "graphql_schema/fast_path/middleware.py": "the NUL pre-check",
    # expands the outbox rows the publishing statement itself wrote
    "app/webhooks/expansion.py": "the server's own outbox rows",
    # reads back the event lists of the webhook ranges the dispatcher itself wrote
    "app/webhooks/ranges.py": "the server's own range rows",
}


def test_no_other_json_decoder_on_an_input_path() -> None:
    found = []
    for layer in INPUT_LAYERS:
        for source in sorted((ROOT / layer).rglob("*.py")):
            name = source.relative_to(ROOT).as_posix()
            for number, line in enumerate(source.read_text().splitlines(), 1):
                if DECODERS.search(line) and name not in ALLOWED:
                    found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "decode input with app.json_input.loads:\n" + "\n".join(found)


def _api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # an include_router() entry
        if included is not None:
            yield from _api_routes(included.routes)


def test_every_route_with_a_body_parses_it_strictly(settings: Settings) -> None:
    routes = list(_api_routes(create_app(settings).routes))
    with_body = [route for route in routes if route.body_field is not None]
    assert len(with_body) >= 8
    loose = [route.path for route in with_body if not isinstance(route, StrictJsonRoute)]
    assert not loose, f"routes reading a body without StrictJsonRoute: {loose}"
