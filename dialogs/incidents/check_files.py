"""Files sent while checking a report: kept waiting in the conversation's state (their ids
only, never which report) until the reporter has proved which report they are for, then
added to it as `reporter_adds_files` decides (the intake for an anonymous report)."""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext

from bot.core.clock import today_in_london
from bot.db.session import turn_session
from bot.incidents.records import ADDED, CLOSED, FULL, HELD
from bot.incidents.service import Incidents
from dialogs.incidents.evidence_ui import FileIntake, as_draft_file
from dialogs.incidents.incident_ui import text


async def keep_sent_files(
    context: TurnContext, files: FileIntake, state: dict[str, Any]
) -> list[dict[str, Any]]:
    """Keep this message's files waiting (state["files"]), saying what became of each;
    the files kept."""
    waiting: list[dict[str, Any]] = state.setdefault("files", [])
    received = await files.receive(context, room=files.max_files - len(waiting), purpose="check")
    kept = [as_draft_file(info) for info in received.kept]
    waiting.extend(kept)
    words = files.words
    said = list(received.refused)
    if received.refused:
        said.append(words["nothing_lost"])
    if kept:
        said.append(words["check_kept"].format(files=files.listing(kept)))
    await context.send_activity(text(" ".join(said)))
    return kept


async def add_waiting_files(
    context: TurnContext,
    incidents: Incidents,
    files: FileIntake,
    state: dict[str, Any],
    reference: str,
) -> None:
    """Add the files waiting in this conversation to `reference` (its reporter has just
    been recognised), and say so; any over the report's limit are deleted, and said."""
    waiting: list[dict[str, Any]] = state.pop("files", None) or []
    if not waiting:
        return
    outcome, added = await incidents.reporter_adds_files(
        turn_session(), reference, [int(f["id"]) for f in waiting], today=today_in_london()
    )
    words, limits = files.words, files.limits()
    said = {
        ADDED: words["check_added"],
        HELD: words["check_added_anonymous"],
        FULL: words["check_full"],
        CLOSED: incidents.words["cases"]["already_closed"],
    }.get(outcome, incidents.words["check"]["expired_card"])
    sentences = [
        said.format(
            reference=reference, count=files.count(added), files=files.listing(waiting), **limits
        )
    ]
    if 0 < added < len(waiting):
        over = files.listing(waiting[added:])
        sentences.append(words["check_over"].format(files=over, **limits))
    await context.send_activity(text(" ".join(sentences)))


async def drop_waiting_files(
    context: TurnContext, incidents: Incidents, files: FileIntake, state: dict[str, Any]
) -> bool:
    """Delete the files waiting in this conversation (the person chose not to add them);
    whether there were any."""
    waiting: list[dict[str, Any]] = state.pop("files", None) or []
    if not waiting:
        return False
    await incidents.evidence.drop(turn_session(), [int(f["id"]) for f in waiting])
    listing = files.listing(waiting)
    await context.send_activity(text(files.words["check_dropped"].format(files=listing)))
    return True
