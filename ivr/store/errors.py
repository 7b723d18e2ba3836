"""Errors raised by the statistics store."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the store raises."""


class StoreUnavailable(StoreError):
    """The database cannot be reached now and the request cannot wait in the spool."""


class NotFound(StoreError):
    """No such tenant, campaign, version or number (or it belongs to another tenant)."""


class Conflict(StoreError):
    """The request contradicts what is stored (a number owned by another tenant, a campaign id taken)."""


class SpoolError(StoreError):
    """The local spool could not be written: the record is neither in the database nor on disk."""


class Forbidden(StoreError):
    """The tenant may not do this (a number it does not lease, or not on that channel)."""
