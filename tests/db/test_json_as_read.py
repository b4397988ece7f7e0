"""``json_as_read`` (what the realtime tail delivers from memory for a publish of this
process) against PostgreSQL's own ``jsonb`` round trip, for generated JSON: the same
bytes once encoded, so key order and int-against-float agree as well as values."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.database import Database
from db.types import json_as_read

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e16, 1e20, 1.2345e20, -0.0, 0.0, 1.5e-7, 123.0, 0.1, 5e-324, 1e300])
    | st.text(alphabet=st.characters(blacklist_characters="\x00", codec="utf-8"), max_size=8)
)
_KEYS = st.text(alphabet=st.characters(blacklist_characters="\x00", codec="utf-8"), max_size=6)
JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=5),
    max_leaves=20,
)


async def _stored(db: Database, value: Any) -> Any:
    async with db.read() as conn:
        result = await conn.exec_driver_sql(
            "SELECT $1::text::jsonb", (orjson.dumps(value).decode(),)
        )
        return result.scalar_one()


def test_memory_rows_read_as_jsonb_gives_them_back(database_url: str, dialect: str) -> None:
    if dialect != "postgresql":
        pytest.skip("the emulation of jsonb is PostgreSQL's; SQLite's rule has its own tests")
    loop = asyncio.new_event_loop()
    db = Database(database_url)
    try:

        @settings(
            max_examples=300,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )
        @given(value=JSON)
        def check(value: Any) -> None:
            try:
                expected = json_as_read(value, "postgresql")
            except ValueError:
                return  # not kept: the tail reads such a row from the database
            stored = loop.run_until_complete(_stored(db, value))
            assert orjson.dumps(expected) == orjson.dumps(stored)

        check()
    finally:
        loop.run_until_complete(db.dispose())
        loop.close()
