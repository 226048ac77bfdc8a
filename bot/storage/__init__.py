"""Questions, votes and counters for moderators, kept with privacy by design.

``Store.open()`` gives SQLite by default and any database SQLAlchemy supports through
``DATABASE_URL`` (PostgreSQL via psycopg 3); see README "What is stored".
"""

from bot.moderation.grouping import UnansweredGroup
from bot.storage.config import StorageError
from bot.storage.store import Store, VoteCount

__all__ = ["StorageError", "Store", "UnansweredGroup", "VoteCount"]
