"""Hate-incident reports, their case history and follow-up messages."""

# Imported at the end of bot/db/models.py, so Base.metadata holds these tables.

from __future__ import annotations
