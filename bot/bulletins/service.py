"""Publishing the bulletin through the outbox, and what people do with it.

People are held here only as keyed pseudonyms (`privacy.pseudonyms`): reach (who was sent a
month's bulletin), reactions and comments (comments sealed), and unsubscribes. That is
enough to count reach and feedback, to join reach to a pseudonymised roster for figures by
directorate later, and to honour "stop sending me this", without storing who anyone is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.bulletins import repo as repo_bulletins
from bot.bulletins.authoring import (
    Bulletin,
    BulletinError,
    bulletin_path,
    check_card,
    load_bulletin,
    parse_month,
)
from bot.bulletins.repo import FeedbackCounts, Issue
from bot.core.clock import LONDON, is_working_day
from bot.core.content import Content
from bot.core.people import PersonKey
from bot.db.models import utcnow
from bot.db.session import turn_session, unit_of_work
from bot.outbox.queue import Outbox, queued_card
from bot.outbox.repo import DeliveryCounts, delivery_counts
from bot.privacy.core import PrivacyCore
from bot.privacy.crypto import FieldCipher, Sealed

log = logging.getLogger(__name__)

KIND = "bulletin"
MAX_COMMENT_CHARS = 1000
Rating = Literal["useful", "not_useful"]


def comment_context(feedback_id: int) -> str:
    """The associated data a feedback comment is sealed with: its own row."""
    return f"bulletin_feedback:{feedback_id}"


@dataclass(frozen=True)
class PublishResult:
    """What publishing a month did (or found already done)."""

    month: str
    already: bool
    queued: int
    unreachable: int
    unsubscribed: int
    message_id: int | None

    @property
    def to_nobody(self) -> bool:
        """Nobody could be sent it (no one has the bot, or everyone unsubscribed), so it was
        not published: the month is still free to publish once someone can get it."""
        return not self.already and self.message_id is None


@dataclass(frozen=True)
class BulletinStatus:
    """One month's bulletin: published when, deliveries, reach and feedback."""

    month: str
    issue: Issue | None
    deliveries: DeliveryCounts
    feedback: FeedbackCounts


@dataclass(frozen=True)
class Latest:
    """The latest bulletin, and whether it had reached this person before (sent or opened)."""

    bulletin: Bulletin
    seen_before: bool


FeedbackOutcome = Literal["recorded", "unknown_bulletin", "comment_too_long"]
CommentKept = Literal["none", "new", "added", "same"]


@dataclass(frozen=True)
class Feedback:
    """What recording a reaction did: the outcome, the rating given before (None if this was
    the first), and what became of the comment ("added" after an earlier one; "same" when it
    was already held, so not stored twice)."""

    outcome: FeedbackOutcome
    before: str | None = None
    comment: CommentKept = "none"


class BulletinService:
    """Loads, publishes and reports on bulletins; records feedback, reach and preferences."""

    def __init__(
        self,
        *,
        content: Content,
        outbox: Outbox,
        privacy: PrivacyCore,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._content = content
        self._outbox = outbox
        self._privacy = privacy
        self._sessions = sessions
        self._clock = clock
        outbox.on_sent(KIND, self._reached)

    @property
    def directory(self) -> Path:
        """Where bulletin files are read from."""
        return self._content.root / "bulletins"

    def today(self) -> date:
        """Today in Europe/London."""
        return self._clock().astimezone(LONDON).date()

    # ---- authoring --------------------------------------------------------------------

    def load(self, month: str) -> Bulletin:
        """The checked bulletin for `month`, its card included (BulletinError otherwise)."""
        bulletin = load_bulletin(self.directory, month)
        check_card(self._content, bulletin)
        return bulletin

    def card(self, bulletin: Bulletin, *, subscribed: bool = True) -> dict[str, Any]:
        """The card staff receive for `bulletin` (with "send it again" if they unsubscribed)."""
        return check_card(self._content, bulletin, subscribed=subscribed)

    async def subscribed(self, person: PersonKey) -> bool:
        """Whether this person is sent the bulletin each month."""
        return not await repo_bulletins.is_unsubscribed(
            turn_session(), pseudonym=self._privacy.pseudonyms.of(person)
        )

    # ---- publishing -------------------------------------------------------------------

    async def publish(
        self, month: str, *, actor: str, progress: Callable[[str], None] = lambda _: None
    ) -> PublishResult:
        """Queue `month`'s bulletin for everyone reachable who has not unsubscribed; when
        that is nobody, publish nothing (`PublishResult.to_nobody`).

        Safe to run twice and on two replicas at once: the first records the issue, the
        others find it and queue nothing.
        """
        bulletin = self.load(month)
        message = queued_card(self.card(bulletin), summary=bulletin.summary)
        async with unit_of_work(self._sessions) as session:
            if await repo_bulletins.get_issue(session, month=bulletin.month) is not None:
                return await _already_published(session, bulletin.month)
            recipients, left_out = await self._recipients(session, progress)
            if not recipients:
                return PublishResult(bulletin.month, False, 0, 0, left_out, None)
            claimed = await repo_bulletins.claim_issue(
                session,
                month=bulletin.month,
                title=bulletin.title,
                published_by=actor,
                at=self._clock(),
            )
            if not claimed:
                return await _already_published(session, bulletin.month)
            enqueued = await self._outbox.enqueue(
                session,
                kind=KIND,
                subject=bulletin.month,
                dedupe_key=f"{KIND}:{bulletin.month}",
                recipients=recipients,
                message=message,
            )
            await repo_bulletins.record_enqueued(
                session,
                month=bulletin.month,
                message_id=enqueued.message_id,
                queued=enqueued.queued,
                unreachable=enqueued.unreachable,
                unsubscribed=left_out,
            )
            await self._privacy.audit.append(
                session,
                actor=actor,
                action="bulletin.publish",
                object_type="bulletin",
                object_id=bulletin.month,
                detail={"queued": enqueued.queued, "unsubscribed": left_out},
            )
        log.info("bulletin.published", extra={"month": bulletin.month, "queued": enqueued.queued})
        return PublishResult(
            bulletin.month,
            False,
            enqueued.queued,
            enqueued.unreachable,
            left_out,
            enqueued.message_id,
        )

    async def _recipients(
        self, session: AsyncSession, progress: Callable[[str], None]
    ) -> tuple[list[PersonKey], int]:
        """Everyone with the bot installed who has not unsubscribed; how many have."""
        people = await repo_bulletins.active_people(session)
        stopped = await repo_bulletins.unsubscribed(session)
        recipients = [p for p in people if self._privacy.pseudonyms.of(p) not in stopped]
        left_out = len(people) - len(recipients)
        progress(
            f"{len(people):,} people have the bot installed; {left_out:,} of them have unsubscribed"
        )
        return recipients, left_out

    async def publish_due(self, now: datetime | None = None) -> PublishResult | None:
        """The scheduled job: on a working day, publish this month's bulletin once its
        publish date (default the first working day) has come. None when nothing is due."""
        today = (now or self._clock()).astimezone(LONDON).date()
        if not is_working_day(today):
            return None
        month = f"{today:%Y-%m}"
        async with self._sessions() as session:
            if await repo_bulletins.get_issue(session, month=month) is not None:
                return None
        if not bulletin_path(self.directory, month).exists():
            log.warning("bulletin.missing", extra={"month": month})
            return None
        try:
            bulletin = self.load(month)
        except BulletinError as error:
            log.error("bulletin.invalid", extra={"month": month, "problems": len(error.problems)})
            return None
        if bulletin.publish_date > today:
            return None
        return await self.publish(month, actor="system:scheduler")

    async def status(self, month: str) -> BulletinStatus:
        """Published when and by whom, deliveries by status, reach, reactions, comments."""
        month = parse_month(month)
        async with self._sessions() as session:
            issue = await repo_bulletins.get_issue(session, month=month)
            deliveries = await delivery_counts(session, kind=KIND, subject=month)
            feedback = await repo_bulletins.feedback_counts(session, month=month)
        return BulletinStatus(month, issue, deliveries, feedback)

    async def comments(self, month: str) -> list[tuple[str, str]]:
        """(rating, comment) for every comment on `month`, decrypted."""
        async with self._sessions() as session:
            stored = await repo_bulletins.comments(session, month=parse_month(month))
        return [
            (
                item.rating,
                self._privacy.cipher.open(
                    Sealed(item.key_id, item.token), context=comment_context(item.feedback_id)
                ),
            )
            for item in stored
        ]

    async def _reached(self, session: AsyncSession, subject: str | None, person: PersonKey) -> None:
        """Outbox hook: a bulletin delivery was accepted by Teams."""
        if subject:
            await repo_bulletins.record_reach(
                session,
                month=subject,
                pseudonym=self._privacy.pseudonyms.of(person),
                day=self.today(),
            )

    # ---- in a turn (the caller's transaction) -------------------------------------------

    async def latest_for(self, person: PersonKey | None) -> Latest | None:
        """The latest published bulletin, counted as reaching `person` (and whether it had
        reached them before); None if none yet."""
        session = turn_session()
        issue = await repo_bulletins.latest_issue(session)
        if issue is None:
            return None
        try:
            bulletin = self.load(issue.month)
        except BulletinError as error:
            log.error(
                "bulletin.invalid", extra={"month": issue.month, "problems": len(error.problems)}
            )
            return None
        if person is None:
            return Latest(bulletin, seen_before=False)
        pseudonym = self._privacy.pseudonyms.of(person)
        seen = await repo_bulletins.was_reached(session, month=issue.month, pseudonym=pseudonym)
        if not seen:
            await repo_bulletins.record_reach(
                session, month=issue.month, pseudonym=pseudonym, day=self.today()
            )
        return Latest(bulletin, seen_before=seen)

    async def give_feedback(
        self, person: PersonKey, *, month: str, rating: Rating, comment: str | None
    ) -> Feedback:
        """Record a reaction (a later one replaces it) and an optional comment, sealed; a
        later comment is added after the earlier one, never in its place."""
        session = turn_session()
        if await repo_bulletins.get_issue(session, month=month) is None:
            return Feedback("unknown_bulletin")
        text = (comment or "").strip()
        if len(text) > MAX_COMMENT_CHARS:
            return Feedback("comment_too_long")
        pseudonym = self._privacy.pseudonyms.of(person)
        earlier = await repo_bulletins.get_feedback(session, month=month, pseudonym=pseudonym)
        feedback_id = await repo_bulletins.save_feedback(
            session, month=month, pseudonym=pseudonym, rating=rating, today=self.today()
        )
        before = earlier.rating if earlier is not None else None
        if not text:
            return Feedback("recorded", before)
        context = comment_context(feedback_id)
        kept: CommentKept = "new"
        if earlier is not None and earlier.comment is not None:
            token, key_id = earlier.comment
            stored = self._privacy.cipher.open(Sealed(key_id, token), context=context)
            if stored == text or stored.endswith(f"\n\n{text}"):
                return Feedback("recorded", before, "same")  # e.g. the same card pressed twice
            # A second comment keeps the first: both reach the team, in order.
            text, kept = f"{stored}\n\n{text}", "added"
        sealed = self._privacy.cipher.seal(text, context=context)
        await repo_bulletins.save_comment(
            session, feedback_id=feedback_id, token=sealed.token, key_id=sealed.key_id
        )
        return Feedback("recorded", before, kept)

    async def unsubscribe(self, person: PersonKey) -> bool:
        """Stop sending this person the bulletin; False if already stopped."""
        return await repo_bulletins.unsubscribe(
            turn_session(), pseudonym=self._privacy.pseudonyms.of(person), today=self.today()
        )

    async def subscribe(self, person: PersonKey) -> bool:
        """Send this person the bulletin again; False if they were not unsubscribed."""
        return await repo_bulletins.subscribe(
            turn_session(), pseudonym=self._privacy.pseudonyms.of(person)
        )


# ---- one person's data (bot/privacy/subject_access.py) ---------------------------------


async def export_bulletin_data(
    session: AsyncSession, cipher: FieldCipher, *, pseudonym: str
) -> dict[str, Any]:
    """Bulletins a person was sent or opened, their reactions and comments (decrypted),
    and whether they unsubscribed."""
    rows = await repo_bulletins.person_rows(session, pseudonym=pseudonym)
    feedback = []
    for item in rows["feedback"]:
        token, key_id = item.pop("comment"), item.pop("comment_key_id")
        feedback_id = item.pop("id")
        if isinstance(token, str) and isinstance(key_id, str) and isinstance(feedback_id, int):
            item["comment"] = cipher.open(
                Sealed(key_id, token), context=comment_context(feedback_id)
            )
        feedback.append(item)
    return {
        "sent_or_opened": rows["reach"],
        "feedback": feedback,
        "unsubscribed": rows["unsubscribed"],
    }


async def erase_bulletin_data(session: AsyncSession, *, pseudonym: str) -> int:
    """Delete a person's bulletin reach, feedback and unsubscribe; rows deleted."""
    return sum((await repo_bulletins.erase_person(session, pseudonym=pseudonym)).values())


async def _already_published(session: AsyncSession, month: str) -> PublishResult:
    """What the first publication of `month` queued (publishing again queues nothing)."""
    issue = await repo_bulletins.get_issue(session, month=month)
    if issue is None:
        raise RuntimeError(f"bulletin {month} was claimed but has no issue row")
    return PublishResult(
        month, True, issue.queued, issue.unreachable, issue.unsubscribed, issue.message_id
    )
