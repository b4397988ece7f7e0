"""``schema.graphql`` is generated from the Strawberry schema and must not drift."""

from __future__ import annotations

from pathlib import Path

from graphql_schema.schema import schema

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"
REGENERATE = ".venv/bin/eventgraph schema --output schema.graphql"


def test_schema_graphql_is_up_to_date() -> None:
    assert SDL.exists(), f"schema.graphql is missing; run: {REGENERATE}"
    assert SDL.read_text() == schema.as_str() + "\n", (
        f"schema.graphql is out of date; run: {REGENERATE}"
    )
