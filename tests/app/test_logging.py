"""Structured logs: one JSON object per line, secrets masked wherever they appear."""

from __future__ import annotations

import io
import json
import logging

from app.observability.logging import JsonFormatter, RedactionFilter, redact


def test_redact_masks_every_kind_of_secret() -> None:
    text = (
        "GET / Authorization: Bearer eg_abcDEF123_-x cookie: session=eg_sess; "
        "token eg_zzz and webhook whsec_QUJD+/= and header {'authorization': 'Basic dXNlcg=='}"
    )
    masked = redact(text)
    for secret in ("eg_abcDEF123_-x", "eg_sess", "eg_zzz", "whsec_QUJD", "dXNlcg=="):
        assert secret not in masked, masked
    assert "GET /" in masked
    assert redact("Bearer abc.def") == "Bearer [REDACTED]"
    assert redact("nothing to hide") == "nothing to hide"


def test_records_are_json_lines_without_secrets() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactionFilter())
    logger = logging.getLogger("eventgraph.test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        logger.info("token created: %s", "eg_SECRETVALUE", extra={"authorization": "Bearer x"})
        try:
            raise ValueError("bad whsec_abcdef")
        except ValueError:
            logger.exception("failed with %s", "whsec_abcdef")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO"
    assert first["logger"] == "eventgraph.test.redaction"
    assert first["message"] == "token created: eg_[REDACTED]"
    assert first["authorization"] == "[REDACTED]"
    assert "whsec_abcdef" not in lines[1]
    assert "ValueError" in second["exception"]
