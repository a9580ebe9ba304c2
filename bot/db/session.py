"""The unit of work: one transaction shared by everything a turn or a job does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

_current_session: ContextVar[AsyncSession | None] = ContextVar("edi_unit_of_work", default=None)


def current_session() -> AsyncSession | None:
    """The session of the unit of work this task is in, if any."""
    return _current_session.get()


def turn_session() -> AsyncSession:
    """The session of the unit of work this task is in; for code that only runs inside one
    (a dialog step, a service called from it)."""
    session = _current_session.get()
    if session is None:
        raise RuntimeError("this runs only inside a unit of work (a turn)")
    return session


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction shared by everything in the block; commits on success, else rolls back."""
    async with sessions() as session:
        token = _current_session.set(session)
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        finally:
            _current_session.reset(token)
