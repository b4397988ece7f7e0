"""Every repository function that reads events takes the read scope (SPEC §4: the read
predicate is applied everywhere). Adding an event read without ``scope`` fails here."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import db.repositories

# Public coroutines that read no event the caller sees, with the reason.
NOT_EVENT_READS = {
    "archive.count_created_before": "purge --dry-run: a count for the admin CLI",
    "archive.delete_created_before": "retention purge (admin, deletes)",
    "archive.insert_missing_channels": "import bookkeeping (admin, writes)",
    "archive.insert_missing_workspaces": "import bookkeeping (admin, writes)",
    "archive.workspaces_and_channels": "archive manifest: no events, admin export",
    "archive.existing_event_ids": "import idempotency: ids only, admin import",
    "archive.insert_events": "write",
    "archive.reserve_positions": "write",
    "event_writes.delete_event": "write (the app checks the delete rule first)",
    "event_writes.insert_events": "write",
    "event_writes.insert_parts": "write",
    "event_writes.insert_parts_kept": "write",
    "event_writes.rehearse_publish": "start-up warm-up: writes made-up rows, rolled back",
    "feed.channel_access": "reads the channel row to answer 401/403/404 itself",
}
EVENT_MODULES = ("events", "event_writes", "feed", "archive", "listing")


def _public_coroutines() -> dict[str, inspect.Signature]:
    found = {}
    for info in pkgutil.iter_modules(db.repositories.__path__):
        if info.name not in EVENT_MODULES:
            continue
        module = importlib.import_module(f"db.repositories.{info.name}")
        for name, function in inspect.getmembers(module, inspect.iscoroutinefunction):
            if function.__module__ == module.__name__ and not name.startswith("_"):
                found[f"{info.name}.{name}"] = inspect.signature(function)
    return found


def test_every_event_read_requires_a_scope() -> None:
    functions = _public_coroutines()
    assert "events.page" in functions  # the walk sees the repositories at all
    missing = [
        name
        for name, signature in functions.items()
        if name not in NOT_EVENT_READS
        and (
            "scope" not in signature.parameters
            or signature.parameters["scope"].default is not inspect.Parameter.empty
        )
    ]
    assert not missing, f"event reads without a required scope: {missing}"


def test_exemptions_still_exist() -> None:
    assert set(NOT_EVENT_READS) <= set(_public_coroutines())
