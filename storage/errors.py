"""Errors that cross the storage boundary."""

__all__ = ["StorageError"]


class StorageError(Exception):
    """The database could not be opened or migrated; the message says which and why."""
