"""The command groups that belong to no feature: the privacy core's, the outbox's, the Teams
app package's. Features declare theirs in their `feature.py`."""

from __future__ import annotations

from bot.core.registry import Commands

PRIVACY = Commands(
    "bot.cli.privacy",
    {
        "keys": "encryption keys: generate, status, rotate",
        "roles": "who holds admin, hr, case_handler, ...",
        "audit": "the audit log: verify, show",
        "retention": "apply the retention rules now",
        "person": "one person's data: export, erase",
    },
)
OUTBOX = Commands("bot.outbox.cli", {"outbox": "proactive messages: status, work, retry"})
MANIFEST = Commands(
    "bot.cli.manifest",
    {"manifest": "build the Teams app package (manifest.json and icons, zipped)"},
)
CONTENT = Commands(
    "bot.cli.content",
    {"content": "check every file under content/ (words, menus, cards, plans, bulletins)"},
)
JOBS = Commands(
    "bot.cli.jobs", {"jobs": "the timed jobs: list them, run one, or rehearse it (--dry-run)"}
)
CORE = (PRIVACY, OUTBOX, JOBS, MANIFEST, CONTENT)
