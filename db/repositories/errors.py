"""Narrow storage errors that ``app/`` translates into client errors."""

from __future__ import annotations


class DuplicateKeyError(Exception):
    """An insert hit a primary-key or unique constraint."""


class MissingReferenceError(Exception):
    """An insert referenced a row that does not exist (a foreign key failed)."""


class StaleReferenceError(Exception):
    """A write checked a row's version and the row has changed (or gone) since."""
