"""The send rate: a per-process limiter and the database-shared send slots.

Ours for good reason: no maintained library shares a rate limit between processes through
the database the workers already use, which is what keeps two replicas under Teams' limit."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

from sqlalchemy import Table, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.logs import describe_exception
from bot.db.session import unit_of_work
from bot.outbox.models import OutboxSendSlot

log = logging.getLogger(__name__)
_SLOTS: Table = OutboxSendSlot.__table__  # type: ignore[assignment]


class RateLimiter:
    """At most `per_second` sends in any one-second window, spaced 1/rate apart, shared by
    every task of a worker.

    Each waiter re-checks after it wakes, so a stalled event loop releases its waiters one
    slot at a time instead of in a burst.
    """

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval = 1.0 / per_second
        self._window = max(1, int(per_second))
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._started: deque[float] = deque()

    async def acquire(self) -> None:
        """Wait until a send may start, and count it."""
        while True:
            now = self._clock()
            while self._started and now - self._started[0] >= 1.0:
                self._started.popleft()
            wait = self._next - now
            if len(self._started) >= self._window:
                wait = max(wait, self._started[0] + 1.0 - now)
            if wait <= 0:
                self._started.append(now)
                # Keep to the schedule when a wake-up is a little late (sleep overshoots by a
                # fraction of a millisecond each time, which would add up), but after a stall
                # or an idle spell start afresh: sends resume at the rate, never in a burst.
                on_time = now - self._next < self._interval
                self._next = (self._next if on_time else now) + self._interval
                return
            await self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """Start no send for `seconds` (the connector said Retry-After)."""
        self._next = max(self._next, self._clock() + seconds)


class SendSlots:
    """The rate limit shared by every worker in every replica, through the database.

    Teams counts requests per app and tenant, whichever replica makes them. Time is cut into
    slots of `chunk / per_second` seconds, each worth `chunk` sends (a tenth of a second at
    the usual rates). A worker sends only in slots it has claimed, and claiming is one
    INSERT that only one worker can win, so all replicas together start at most `per_second`
    sends a second (plus at most one slot's worth across a second's edge). A 429's
    Retry-After claims the slots it covers for nobody, so every replica waits. A slot a
    worker cannot fill is simply lost: the limit errs on the slow side. Replicas compare
    their own clocks, so they need NTP, as the leases already do.
    """

    CLEAN_EVERY = 600  # slots; old rows are deleted about once a minute per worker
    MAX_BLOCK_SLOTS = 6000  # a Retry-After beyond ~10 minutes also pauses locally only

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        per_second: float,
        *,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._sessions = sessions
        self._chunk = max(1, -(-int(per_second) // 10))  # ceil(rate / 10), at least 1
        self._per_slot = per_second / self._chunk  # slots per second
        self._length = 1.0 / self._per_slot
        self._wall = wall
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._slot = -1  # the slot this worker is in, and how many sends it has left there
        self._left = 0
        # The next slot, being claimed while this one is spent, so a claim never waits on
        # the database at a slot's start (which would lose that slot's first sends).
        self._ahead: tuple[int, asyncio.Task[bool]] | None = None
        self._claims = 0
        postgres = sessions.kw["bind"].dialect.name == "postgresql"
        self._insert = pg_insert if postgres else sqlite_insert

    @property
    def slot_seconds(self) -> float:
        """How long one slot lasts."""
        return self._length

    async def take(self) -> None:
        """Wait until this worker may start one send."""
        async with self._lock:
            while True:
                slot = self._current()
                if slot != self._slot:
                    await self._enter(slot)
                if self._left > 0:
                    self._left -= 1
                    return
                # Until the next slot starts (never a zero sleep: rounding must not spin).
                await self._sleep(max(0.0005, (slot + 1) / self._per_slot - self._wall()))

    async def block(self, seconds: float) -> None:
        """Nobody sends for `seconds` (the connector said Retry-After)."""
        first = self._current() + 1
        count = min(self.MAX_BLOCK_SLOTS, math.ceil(seconds * self._per_slot))
        if count <= 0:
            return
        rows = [{"slot": n} for n in range(first, first + count)]
        async with unit_of_work(self._sessions) as session:
            statement = self._insert(_SLOTS).values(rows).on_conflict_do_nothing()
            await session.execute(statement)

    async def settle(self) -> None:
        """At the end of a pass: finish a claim made ahead of time, and give back the slot
        it won, unused, for another worker (no task outlives the pass)."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and await self._result(ahead[1]):
            async with unit_of_work(self._sessions) as session:
                await session.execute(delete(_SLOTS).where(_SLOTS.c.slot == ahead[0]))

    async def _enter(self, slot: int) -> None:
        """Move into `slot`: with its sends if this worker won it, else with none."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == slot:
            won = await self._result(ahead[1])
        else:
            if ahead is not None:
                await asyncio.gather(ahead[1], return_exceptions=True)
            won = await self._claim(slot)
        self._slot, self._left = slot, (self._chunk if won else 0)
        if won:
            claim = asyncio.get_running_loop().create_task(self._claim(slot + 1))
            self._ahead = (slot + 1, claim)

    @staticmethod
    async def _result(task: asyncio.Task[bool]) -> bool:
        try:
            return await task
        except Exception as error:  # noqa: BLE001 - a lost claim only costs a slot
            log.warning("outbox.slot_claim_failed", extra={"error": describe_exception(error)})
            return False

    def _current(self) -> int:
        return int(self._wall() * self._per_slot)

    async def _claim(self, slot: int) -> bool:
        statement = (
            self._insert(_SLOTS).values(slot=slot).on_conflict_do_nothing().returning(_SLOTS.c.slot)
        )
        async with unit_of_work(self._sessions) as session:
            won = (await session.execute(statement)).first() is not None
            self._claims += 1
            if self._claims % self.CLEAN_EVERY == 0:
                await session.execute(delete(_SLOTS).where(_SLOTS.c.slot < slot - self.CLEAN_EVERY))
        return won
