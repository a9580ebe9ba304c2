"""EDI action plans: leads, progress, snoozes, claims and the nudges sent (issue 9).

The plans themselves are content (content/actions/plans/*.yaml); these tables hold what
happens to them. An action is named by (plan, number), e.g. ("2022-23", "4.1").
"""

# Imported at the end of bot/db/models.py, so Base.metadata holds these tables.

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models import Base, utcnow


class ActionLead(Base):
    """One person leading a lead team (every action naming it) or one action.

    `scope_kind` is "team" (scope = the team's name as the plans write it, lower case),
    "action" (scope = "PLAN/NUMBER") or "not_mine" (the person said an action reached
    through their team is not theirs: they are left out of its nudges).
    `person` is an Entra object id or a UPN, lower case, as with role grants.
    """

    __tablename__ = "action_leads"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    scope_kind: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(300))
    person: Mapped[str] = mapped_column(String(256))
    tenant_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    assigned_by: Mapped[str] = mapped_column(String(256))
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("scope_kind", "scope", "person", name="uq_action_leads_scope_person"),
        Index("ix_action_leads_person", "person"),
    )


class ActionUpdate(Base):
    """One progress update on an action: a RAG status and a note, "done", or "reopened".

    The newest update of an action is its current state. `note` is the lead's free text
    (length-limited, never logged)."""

    __tablename__ = "action_updates"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    plan: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # "progress" | "done" | "reopened"
    rag: Mapped[str | None] = mapped_column(String(8), nullable=True)  # green|amber|red
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    author: Mapped[str] = mapped_column(String(256))  # "teams:TENANT/AAD" or "cli:USER"
    author_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    on: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_action_updates_action", "plan", "number", "id"),)


class ActionSnooze(Base):
    """A lead asked not to be nudged about an action until a day."""

    __tablename__ = "action_snoozes"

    plan: Mapped[str] = mapped_column(String(16), primary_key=True)
    number: Mapped[str] = mapped_column(String(16), primary_key=True)
    person: Mapped[str] = mapped_column(String(300), primary_key=True)  # "TENANT/AAD"
    until: Mapped[date] = mapped_column(Date)
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ActionNudge(Base):
    """One nudge queued: an action's milestone, at one offset ("before:14", "overdue:2",
    "escalate", "past"), to one person (or "board_chair"). The unique constraint makes each
    exactly once, whichever scheduler replica gets there first."""

    __tablename__ = "action_nudges"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    plan: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(16))
    milestone: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(32))
    person: Mapped[str] = mapped_column(String(300))  # "TENANT/AAD"
    queued_on: Mapped[date] = mapped_column(Date)
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        UniqueConstraint(
            "plan", "number", "milestone", "label", "person", name="uq_action_nudges_once"
        ),
        Index("ix_action_nudges_queued_on", "queued_on"),
    )


class ActionClaim(Base):
    """ "I lead action 4.1": waiting for an admin to confirm or decline it."""

    __tablename__ = "action_claims"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    plan: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(16))
    tenant_id: Mapped[str] = mapped_column(String(128))
    aad_object_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # "pending" | "confirmed" | "declined"
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_action_claims_person", "aad_object_id"),)
