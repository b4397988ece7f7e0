"""``webhook-id``s made in bulk when the outbox is expanded."""

from __future__ import annotations

from ulid import ULID

from app.webhooks.ids import message_ids


def test_message_ids_are_distinct_ulids() -> None:
    first, second = message_ids(3000), message_ids(5)
    assert len(set(first + second)) == 3005
    # Calls within one millisecond (ULID() is monotonic there: it would share the head).
    assert len({message_ids(1)[0] for _ in range(500)}) == 500
    for message_id in first + second:
        assert message_id.startswith("msg_")
        assert str(ULID.from_str(message_id[4:])) == message_id[4:]
    assert message_ids(0) == []
