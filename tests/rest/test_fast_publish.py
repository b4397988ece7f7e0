"""``POST /api/v1/channels/{id}/events`` served without FastAPI's routing and dependency
solving answers what the route answers: generated publishes (valid and invalid bodies,
every kind of token, cookies, content types, idempotency keys, query strings, channels
that are missing or out of scope) go to an app with the shortcut and to one without it,
both on one database, and the answers must match byte for byte but for the ids and
times of the two publishes."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import strategies as st

from tests.fixtures.app import ADMIN_SECRET, Api
from tests.fixtures.fast_paths import Request, run_differential, served
from tests.rest.conftest import ADMIN, build_world

SERVED = "rest_publish"
_VARYING = re.compile(rb'"(id|created_at)":"[^"]*"')

BODIES: list[Any] = [
    {"type": "a", "data": {"n": 1}},
    {"data": [1, 2], "meta": {"m": True}, "subject_id": "s", "user_id": "u"},
    {"events": [{"type": "a", "data": 1}, {"data": {"x": None}, "meta": "m"}]},
    # refused inside the publish (answered by the shortcut, with the error's path)
    {"data": 1, "parent_id": "nope"},
    {"data": 1, "meta": "m" * 17_000},
    {"type": "t" * 300, "data": 1},
    {"events": [{"data": 1}, {"data": 2, "parent_id": "nope"}]},
    {"data": None},
    {"data": 1, "subjectId": "s"},
    {"data": 1, "parent_id": "nope"},
    {"type": 5, "data": 1},
    {"data": "x" * 70_000},
    {"events": "x"},
    {"events": [], "x": 1},
    {"events": []},
    [],
    "x",
    None,
]
RAW_BODIES = [b"", b"{", b'{"data": NaN}', b'{"data": 1, "data": 2}', b'{"data": "\\u0000"}']


def _normalize(body: bytes) -> bytes:
    return _VARYING.sub(rb'"\1":"-"', body)


async def _setup(api: Api) -> dict[str, Any]:
    world = await build_world(api)
    return {"secrets": [ADMIN_SECRET, *world.tokens.values()]}


def _requests(context: dict[str, Any]) -> st.SearchStrategy[Request]:
    secrets = context["secrets"]
    bearer = st.sampled_from(secrets).map(lambda s: (("Authorization", f"Bearer {s}"),))
    auth = st.one_of(
        *[bearer] * 6,
        st.sampled_from(secrets).map(lambda s: (("Cookie", f"session={s}"),)),
        st.sampled_from([(), (("Authorization", "Bearer nope"),), (("Authorization", "Basic x"),)]),
    )
    content_type = st.sampled_from(
        [
            *[(("Content-Type", "application/json"),)] * 4,
            (("Content-Type", "application/json; charset=utf-8"),),
            (("Content-Type", "text/plain"),),
            (),
        ]
    )
    key = st.sampled_from([()] * 5 + [(("Idempotency-Key", "k1"),)])
    body = st.sampled_from(
        [json.dumps(value).encode() for value in BODIES[:7] * 3 + BODIES[7:]] + RAW_BODIES
    )
    channel = st.sampled_from(["market"] * 4 + ["secret", "elsewhere", "missing", "a%00b"])
    params = st.sampled_from([()] * 5 + [(("x", "1"),)])
    return st.builds(
        lambda c, p, a, t, k, b: Request(
            "POST", f"/api/v1/channels/{c}/events", params=p, headers=(*a, *t, *k), content=b
        ),
        channel,
        params,
        auth,
        content_type,
        key,
        body,
    )


def test_shortcut_and_route_publish_byte_for_byte(database_url: str) -> None:
    run_differential(
        database_url,
        setup=_setup,
        requests=_requests,
        path=SERVED,
        examples=400,
        min_served=0.08,
        normalize=_normalize,
    )


async def test_a_plain_publish_takes_the_shortcut(api: Api) -> None:
    await build_world(api)
    before = served(SERVED)
    response = await api.http.post(
        "/api/v1/channels/market/events", json={"type": "a", "data": 1}, headers=ADMIN
    )
    assert response.status_code == 201, response.text
    assert served(SERVED) == before + 1
    stored = await api.http.get("/api/v1/channels/market/events", headers=ADMIN)
    assert [e["id"] for e in stored.json()["events"]] == [response.json()["id"]]
