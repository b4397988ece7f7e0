"""``format_datetime`` builds the wire format from the fields: it must equal ISO 8601 by
``isoformat`` (milliseconds truncated, ``Z``) for every instant and zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from db.types import format_datetime, to_millis

_ZONES = st.one_of(
    st.none(),
    st.just(UTC),
    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    ),
)


# naive bounds (hypothesis wants them naive), a day inside the range so any zone fits in UTC
_FIRST = datetime(1, 1, 2, tzinfo=UTC).replace(tzinfo=None)
_LAST = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC).replace(tzinfo=None)


def _by_isoformat(value: datetime) -> str:
    return to_millis(value).isoformat(timespec="milliseconds")[:23] + "Z"


@settings(max_examples=2000, deadline=None)
@given(
    st.datetimes(min_value=_FIRST, max_value=_LAST),
    _ZONES,
)
def test_equals_isoformat(value: datetime, zone: timezone | None) -> None:
    value = value.replace(tzinfo=zone)
    assert format_datetime(value) == _by_isoformat(value)


def test_fixed_widths() -> None:
    assert format_datetime(datetime(7, 2, 3, 4, 5, 6, 7999, tzinfo=UTC)) == (
        "0007-02-03T04:05:06.007Z"
    )
    assert format_datetime(datetime(2026, 11, 27, 23, 59, 59, 999999, tzinfo=UTC)) == (
        "2026-11-27T23:59:59.999Z"
    )
