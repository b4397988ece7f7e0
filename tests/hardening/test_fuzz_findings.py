"""Regressions for what the fuzzer found beyond the issue's list."""

from __future__ import annotations

from tests.fixtures.app import Api


async def test_a_bad_datetime_literal_is_a_validation_error(api: Api) -> None:
    query = (
        'mutation { createToken(input: {kind: subscribe, name: "t", expiresAt: "È%"}) { secret } }'
    )
    for token in ("test-admin-secret", None):
        body = await api.graphql(query, token=token)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        assert "not an ISO 8601 date-time" in body["errors"][0]["message"]
