"""The annual review prompt: a gentle reminder, through the outbox, to check one's answers.

Declarations hold only pseudonyms, and the outbox needs a person's tenant and Entra id. So
the prompt never looks a person up from a declaration: it walks the conversation references
(which legitimately hold tenant + Entra id for everyone who installed the bot), pseudonymises
each one with the keyed pseudonym, and keeps those whose pseudonym is due. No raw id is ever
written next to a declaration, and the pseudonym is never written next to a raw id.

What the outbox then holds is one message of kind `declaration.review_prompt` with a
delivery per person: that tells someone with database access that these people were
prompted, not what they said. To keep those deliveries from being lined up one by one with
declaration dates, the job runs once a month (everyone who became due that month is in one
message) and recipients are queued in Entra id order, not pseudonym order. The prompt's words
are the same for everyone and reveal nothing (see content/declarations/words.yaml).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.content import Content, Texts
from bot.db import references as repo_references
from bot.declarations import repo as repo_declarations
from bot.declarations.service import today_utc
from bot.outbox.queue import Outbox, queued_card
from bot.privacy.pseudonym import Pseudonymiser

log = logging.getLogger(__name__)

REVIEW_KIND = "declaration.review_prompt"


@dataclass(frozen=True, slots=True)
class ReviewRun:
    """What one run did: people due, prompted, and due but not reachable (tried next run)."""

    due: int
    prompted: int
    unreachable: int


class ReviewPrompter:
    """Finds the people due a review prompt and queues one message to all of them."""

    def __init__(
        self,
        *,
        content: Content,
        pseudonyms: Pseudonymiser,
        outbox: Outbox,
        after_days: int = 365,
    ) -> None:
        self._content = content
        self._texts = Texts(content.data("declarations/words"))
        self._pseudonyms = pseudonyms
        self._outbox = outbox
        self._after = timedelta(days=after_days)

    def message(self) -> dict[str, Any]:
        """The prompt: the same card for everyone, naming no answer and no characteristic."""
        card = self._content.card(
            "declaration_message",
            heading=self._texts("review_prompt.heading"),
            paragraphs=[self._texts("review_prompt.text")],
            note=None,
            choices=[],
            buttons=[
                {
                    "title": self._texts("review_prompt.button"),
                    "data": {"command": "my data"},
                }
            ],
        )
        return queued_card(card, summary=self._texts("review_prompt.heading"))

    async def run(self, session: AsyncSession, *, today: date | None = None) -> ReviewRun:
        """Queue the prompt, in `session`'s transaction, for everyone due and reachable."""
        day = today or today_utc()
        due = set(
            await repo_declarations.due_for_review(session, cutoff=day - self._after, lock=True)
        )
        if not due:
            return ReviewRun(0, 0, 0)
        reachable = {}
        for person in await repo_references.active_people(session):
            pseudonym = self._pseudonyms.of(person)
            if pseudonym in due:
                reachable[pseudonym] = person
        if reachable:
            recipients = sorted(
                reachable.values(), key=lambda p: (p.tenant_id.lower(), p.aad_object_id.lower())
            )
            await self._outbox.enqueue(
                session, kind=REVIEW_KIND, recipients=recipients, message=self.message()
            )
            await repo_declarations.mark_review_prompted(
                session, pseudonyms=reachable.keys(), on=day
            )
        run = ReviewRun(len(due), len(reachable), len(due) - len(reachable))
        log.info(
            "declaration.review_prompts",
            extra={"due": run.due, "prompted": run.prompted, "unreachable": run.unreachable},
        )
        return run
