"""The outbox: one row per message and one per (message, recipient)."""

# Imported at the end of bot/db/models.py, so Base.metadata holds these tables.

from __future__ import annotations
