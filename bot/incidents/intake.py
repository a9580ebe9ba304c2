"""The anonymous intake: sealed, padded items that become reports in a batch of their own.

See docs/incidents.md: an anonymous report is written where nothing links it to the turn
that made it, and released later, shuffled, in a transaction that touches no person's rows."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.incidents import repo
from bot.incidents.models import (
    IncidentIntake,
    IncidentReport,
    intake_context,
    random_row_id,
)
from bot.incidents.notices import HandlerNotices
from bot.incidents.records import (
    INTAKE_PAD,
    HeldItem,
)
from bot.privacy.crypto import DecryptionError

log = logging.getLogger("bot.incidents")


class AnonymousIntake(HandlerNotices):
    """Holds anonymous reports and additions until a release makes cases of them."""

    async def _hold(self, session: AsyncSession, item: dict[str, Any]) -> None:
        """Put an anonymous report or message in the intake: one sealed, padded row."""
        row_id = random_row_id()
        document = json.dumps(item, ensure_ascii=False)
        document += " " * (-len(document) % INTAKE_PAD)
        sealed = self._cipher.seal(document, context=intake_context(row_id))
        session.add(IncidentIntake(id=row_id, payload=sealed.token, payload_key=sealed.key_id))
        await session.flush()

    async def _held(self, session: AsyncSession, *, lock: bool = False) -> list[HeldItem]:
        """Everything in the intake, opened (a handful of rows: it is emptied daily);
        `lock` claims the rows, so two replicas never release the same ones."""
        held = []
        for row in await repo.intake_rows(session, lock=lock):
            try:
                item = self._open(row.payload, row.payload_key, intake_context(row.id))
            except DecryptionError:
                log.error("incident.intake_unreadable")
                continue
            held.append(HeldItem(row.id, item))
        return held

    async def _pending_report(self, session: AsyncSession, reference: str) -> HeldItem | None:
        found = None
        for held in await self._held(session):  # every row, every time: no early exit
            if held.item.get("kind") == "report" and held.item["fields"]["reference"] == reference:
                found = held
        return found

    async def _release_addition(
        self, session: AsyncSession, report: IncidentReport, item: dict[str, Any]
    ) -> None:
        """An anonymous reporter's later message, or files, made part of their case."""
        if item["kind"] == "files":
            await self.evidence.attach(session, report, item["files"], named=False)
            return
        await self.add_message(
            session,
            report,
            author="reporter",
            body=str(item["body"]),
            on=date.fromisoformat(item["on"]),
        )

    def waiting_file_ids(self, held: Sequence[HeldItem]) -> set[int]:
        """The waiting files the intake's items name (they go with the next release)."""
        return {int(i) for h in held for i in h.item.get("files") or []}

    def release_due(self, held: Sequence[HeldItem], *, today: date, chance: float) -> bool:
        """Whether to release the intake now: anything from an earlier day always (so
        nothing waits past the first run after midnight), otherwise only once there are
        `release_batch` items, and then at a random run (`chance` below one half), so a
        release does not follow the submission that completed the batch."""
        if not held:
            return False
        if any(date.fromisoformat(h.item["on"]) < today for h in held):
            return True
        return len(held) >= self.taxonomy.limits["release_batch"] and chance < 0.5

    async def release(
        self,
        session: AsyncSession,
        *,
        today: date,
        force: bool = False,
        rng: random.Random | None = None,
    ) -> dict[str, int]:
        """Move the intake into the case list, in shuffled order, in this transaction alone
        (which touches no person's rows). Case handlers are alerted by the next `sweep`."""
        chooser = rng or random.SystemRandom()
        held = await self._held(session, lock=True)
        counts = {"released_reports": 0, "released_messages": 0, "waiting": len(held)}
        if not (force and held) and not self.release_due(
            held, today=today, chance=chooser.random()
        ):
            return counts
        reports = [h for h in held if h.item["kind"] == "report"]
        later = [h for h in held if h.item["kind"] in ("message", "files")]
        chooser.shuffle(reports)
        chooser.shuffle(later)
        released = []
        for h in reports:
            item = h.item
            if await self.by_reference(session, item["fields"]["reference"]) is not None:
                # Two references alike (about one in 10^12): the older report keeps it.
                log.error("incident.intake_reference_taken")
                continue
            report = self._new_report(
                item["fields"], item["details"], passphrase_hash=item["passphrase_hash"]
            )
            session.add(report)
            released.append((report, item.get("files") or []))
            counts["released_reports"] += 1
        await session.flush()
        for report, files in released:
            # Shown by neutral names ("image-1.jpg"): a file's name may say who sent it.
            await self.evidence.attach(session, report, files, named=False)
        for h in later:
            case = await self.by_reference(session, str(h.item["reference"]))
            if case is None:
                continue  # the report was purged meanwhile
            await self._release_addition(session, case, h.item)
            if case.status != "closed":
                self._mark(case, "info_pending")
            counts["released_messages"] += 1
        await repo.delete_intake_rows(session, ids=[h.row_id for h in held])
        counts["waiting"] = 0
        return counts
