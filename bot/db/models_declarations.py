"""Self-declared protected characteristics, under a keyed pseudonym."""

# Imported at the end of bot/db/models.py, so Base.metadata holds these tables.

from __future__ import annotations
