"""storage: the database layer of newshound.

SQLModel tables, engine set-up with versioned (Alembic) migrations, and the
plain queries and transactions the layers above call. Everything here is
synchronous: async code reaches it only through ``asyncio.to_thread``, so the
event loop never blocks on SQLite.

Nothing here knows about HTTP, feed formats or Telegram. Inputs and outputs
are the frozen dataclasses in :mod:`storage.records`.
"""

from storage.db import Database, open_database
from storage.errors import StorageError

__all__ = ["Database", "StorageError", "open_database"]
