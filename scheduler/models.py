"""The record of each scheduled job's runs: when, how it went, and its counts (no people)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models import Base


class JobRun(Base):
    """One run of a job, by the scheduler or by `edi-bot jobs run` (rehearsals are not kept).

    `outcome` is ok, skipped or failed; `detail` is the run's counts as JSON, or the class of
    the error ("OperationalError"): never a person, a message or an exception's text.
    """

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(16))  # "schedule" or "command"

    __table_args__ = (Index("ix_job_runs_job_started_at", "job", "started_at"),)
